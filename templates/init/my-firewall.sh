#!/bin/sh
# Replace this with the firewall script your hosts run (from cron, a boot script, configuration
# management). It runs as root in each host after dockerd started, with the cell's iptables
# first on PATH, under a plain POSIX sh.
set -eu
iptables -A INPUT -i lo -j ACCEPT
iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
iptables -A INPUT -p tcp --dport 22 -j ACCEPT
