/**
 * How long each kind of call may take, in milliseconds: the one place a timeout is written
 * (test/unit/timeouts.test.ts fails when a numeric timeout appears anywhere else). User
 * settings with their own bounds (probe, attempt and build timeouts) live in the matrix schema.
 */
const TIMEOUTS = {
  // Inside a host (dind container or VM)
  /** one command or step in a host, unless a kind below says otherwise */
  hostExec: 60_000,
  /** fwcompat-dockerd start */
  engineStart: 60_000,
  /** fwcompat-dockerd restart: dockerd stops, then rebuilds its rules on start */
  engineRestart: 90_000,
  /** a host firewall service starting or reloading (ufw, firewalld) with dockerd reacting to it */
  hostFirewall: 90_000,
  /** one batch of reads (rule sets, facts) */
  hostReads: 30_000,
  /** one read */
  hostRead: 20_000,
  /** the probes' preliminary steps (pin containers, flush the neighbour cache) */
  probePreliminaries: 40_000,
  /** a probe when its caller names none */
  probe: 3_000,
  /** a probe command's bound beyond its own network timeout, when run through the container's exec */
  probeExecSlack: 15_000,
  /** a dind host's in-host daemon reporting ready */
  hostReady: 20_000,
  /** one look at whether the in-host daemon is ready */
  hostReadyPoll: 5_000,
  /** the -C self-probe container */
  checkProbe: 60_000,

  // The outer Docker engine
  /** a version or ping answer */
  engineReachable: 5_000,
  /** an exec's bound beyond the timeout it was given */
  engineExecSlack: 5_000,

  // VMs (libvirt, vagrant, ssh)
  vagrantUp: 600_000,
  /** vagrant global-status --prune */
  vagrantStatus: 120_000,
  /** a VM settling before its state is saved */
  vmSettle: 180_000,
  /** a script over ssh: its bound beyond the in-VM `timeout` */
  vmShSlack: 10_000,
  virsh: 60_000,
  /** virsh version: does libvirtd answer */
  virshVersion: 10_000,
  /** virsh domifaddr */
  virshAddress: 20_000,
  /** virsh save or restore of a VM's memory */
  virshSaveRestore: 600_000,
  /** libvirtd started by fwcompat answering */
  libvirtdStart: 60_000,
  /** a test kernel booted under KVM */
  kvmBoot: 30_000,
  /** a bare vCPU run under KVM, and when it is told to quit */
  kvmProbe: 20_000,
  kvmProbeQuitAfter: 2_000,
  /** the VM's ssh master connecting */
  sshMaster: 90_000,
  sshMasterExit: 10_000,
  /** building a vagrant box, and adding it */
  boxBuild: 1_200_000,
  boxAdd: 600_000,

  // This machine's tools
  /** a git command */
  git: 120_000,
  /** cloning or fetching a repository */
  gitFetch: 600_000,
  /** one download, connection to last byte (a moby source archive is tens of MB) */
  download: 900_000,
  /** the longest a download may wait for its response head or the next piece of its body */
  downloadIdle: 30_000,
  /** reading a source archive's commit or first entry */
  archiveRead: 60_000,
  debootstrap: 600_000,
  /** a base image's rootfs imported into the engine */
  imageImport: 300_000,
  /** one round of the bench's shim-cost script */
  benchRound: 600_000,
};

export const TIMEOUT_MS: Readonly<typeof TIMEOUTS> = Object.freeze(TIMEOUTS);
export type TimeoutKind = keyof typeof TIMEOUT_MS;

/**
 * How much longer a command in a VM under software emulation (TCG, no usable KVM) may take than
 * the bounds above: dockerd's start took 50 s there on a loaded 2-core machine (5 s in a dind
 * host), and a confined restart ran past the 90 s bound.
 */
export const EMULATED_VM_SLOWDOWN = 3;
