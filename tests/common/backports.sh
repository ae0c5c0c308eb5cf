# Sourced by the test scripts that install QEMU (tests/embedded/run.sh,
# tests/cross/run.sh).
#
# install_from_backports PACKAGE...
#   Installs the packages with apt-get, without recommends. On Debian
#   bookworm they come from bookworm-backports where it has them (QEMU 10
#   there; bookworm's own QEMU 7.2 would remove the machine's qemu-utils
#   10), so the suite is added first, from the archive the system already
#   uses. Packages backports lacks come from bookworm itself. Elsewhere,
#   from the system's suites. Runs apt-get through sudo when not root.
install_from_backports() {
  local sudo="" codename uri list
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  if [ "$codename" = "bookworm" ]; then
    uri=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
    uri=${uri:-http://deb.debian.org/debian}
    list=/etc/apt/sources.list.d/bookworm-backports.sources
    if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
      printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$uri" | $sudo tee "$list" >/dev/null
    fi
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends -t bookworm-backports "$@" >/dev/null
  else
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  fi
}
