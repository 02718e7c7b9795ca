// The mirror may be a dated snapshot whose Release files have expired; their signatures still hold.
export const APT_UPDATE = "apt-get -o Acquire::Check-Valid-Until=false update -qq";
export const APT_INSTALL = "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends";
