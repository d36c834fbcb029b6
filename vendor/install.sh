#!/bin/sh
# Installs the Debian packages listed in vendor/packages.txt that are missing.
# Usage: vendor/install.sh [group]   (group "bench" adds the benchmark peers)
set -e
here=$(dirname "$0")
# Lines from "# Benchmarks only" on are the bench group's.
if [ "$1" = "bench" ]; then
  want=$(sed -e 's/#.*//' "$here/packages.txt" | awk 'NF {print $1}')
else
  want=$(sed -e '/^# Benchmarks only/,$d' -e 's/#.*//' "$here/packages.txt" | awk 'NF {print $1}')
fi
missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
