#!/bin/sh
# Installs the Debian packages listed in vendor/packages.txt that are missing.
# Usage: vendor/install.sh [group]   (group "bench" adds the benchmark peers)
set -e
here=$(dirname "$0")
want=$(sed -e 's/#.*//' "$here/packages.txt" | awk 'NF {print $1}')
if [ "$1" != "bench" ]; then
  want=$(echo "$want" | grep -v -e '^python3-')
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
