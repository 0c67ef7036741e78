#!/usr/bin/env bash
# Tests the Debian package as an admin meets it, in a fresh minbase Debian root (debootstrap, cached
# in $SW_DEBROOT_CACHE, default /var/tmp/sw-fresh as tools/fresh-machine.sh uses; needs root):
#   contents and scripts (dpkg-deb -c/-I), lintian (in scripts/package.sh), then in the root:
#   apt-get install ./pkg.deb (dependencies resolve from Debian), the user, the config's owner and
#   mode, the unit enabled, `sessionwatch check` on the installed config, `sessionwatch scan` on the
#   installed sample; an admin disables the unit and edits the config; an upgrade to a rebuilt
#   package keeps both; a broken config is named by the upgrade instead of a restart; remove
#   (binary gone, unit disabled, config kept) and purge (nothing left, user gone).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "package-test.sh: needs root (debootstrap, chroot)" >&2; exit 1; }
fail() { echo "package-test.sh: FAIL: $*" >&2; exit 1; }
pass() { echo "  ok: $*"; }

version=$(sed -n 's/^project(sessionwatch VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
scripts/package.sh >/dev/null
deb=$(ls build/pkg/sessionwatch_"$version"_*.deb)
SW_PACKAGE_VERSION="$version+upgrade1" scripts/package.sh >/dev/null
deb2=$(ls build/pkg/sessionwatch_"$version"+upgrade1_*.deb)

echo "== contents and control of $deb"
contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/sessionwatch ./etc/sessionwatch/sessionwatch.yaml ./usr/lib/systemd/system/sessionwatch.service \
  ./usr/share/man/man8/sessionwatch.8.gz ./usr/share/bash-completion/completions/sessionwatch \
  ./usr/share/zsh/vendor-completions/_sessionwatch ./usr/share/doc/sessionwatch/copyright \
  ./usr/share/doc/sessionwatch/changelog.gz ./usr/share/sessionwatch/rules/sw_console_logon_refused_7063.yml \
  ./usr/share/sessionwatch/examples/sample_events.xml; do
  grep -q " $f\$" <<<"$contents" || fail "$f is not in the package"
done
grep -q '^-rw-r----- root/root .* ./etc/sessionwatch/sessionwatch.yaml$' <<<"$contents" ||
  fail "the config is not shipped 0640 root:root"
pass "files, modes"
info=$(dpkg-deb -I "$deb")
grep -q 'Depends:.*libyaml-cpp' <<<"$info" || fail "Depends lacks the shared libraries"
grep -q 'Depends:.*librdkafka' <<<"$info" || fail "Depends lacks librdkafka (the kafka output)"
grep -q 'Depends:.*libssl3' <<<"$info" || fail "Depends lacks libssl3 (TLS, opened on first use)"
grep -q '/etc/sessionwatch/sessionwatch.yaml' <(dpkg-deb -f "$deb" Conffiles 2>/dev/null; dpkg-deb -I "$deb" conffiles) ||
  fail "the config is not a conffile"
pass "control: Depends, conffiles"
man_text=$(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/man/man8/sessionwatch.8.gz | zcat)
for c in demo scan run check service rules version; do
  grep -q "^\.SS $c\$" <<<"$man_text" || fail "the man page has no section for '$c'"
done
pass "man page covers every command"

rpm_file=$(ls build/pkg/sessionwatch-"$version"-1.*.rpm 2>/dev/null || true)
if [ -n "$rpm_file" ] && command -v rpm >/dev/null; then
  rpm -qp --configfiles "$rpm_file" 2>/dev/null | grep -qx /etc/sessionwatch/sessionwatch.yaml || fail "rpm: config not %config"
  rpm_files=$(rpm -qpl "$rpm_file" 2>/dev/null)
  for f in /usr/bin/sessionwatch /usr/share/man/man8/sessionwatch.8.gz /usr/lib/systemd/system/sessionwatch.service; do
    grep -qx "$f" <<<"$rpm_files" || fail "rpm: $f missing"
  done
  for s in preinstall postinstall preuninstall postuninstall; do
    rpm -qp --scripts "$rpm_file" 2>/dev/null | grep -q "^$s scriptlet" || fail "rpm: no $s scriptlet"
  done
  pass "rpm: files, %config, scriptlets ($rpm_file)"
fi
if command -v systemd-analyze >/dev/null; then
  # The unit's hardening, as systemd scores it (0 = fully locked down, 10 = none): keep <= 1.5.
  exposure=$(systemd-analyze security --offline=true packaging/systemd/sessionwatch.service 2>/dev/null | sed -n 's/.*Overall exposure level for sessionwatch.service: \([0-9.]*\).*/\1/p')
  systemd-analyze security --offline=true --threshold=15 packaging/systemd/sessionwatch.service >/dev/null 2>&1 ||
    fail "systemd-analyze security: exposure $exposure > 1.5"
  pass "systemd-analyze security: exposure $exposure"
fi

echo "== a fresh Debian root"
cache=${SW_DEBROOT_CACHE:-/var/tmp/sw-fresh}
mkdir -p "$cache"
mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
if [ ! -f "$cache/base.tar" ]; then
  rm -rf "$cache/base"
  debootstrap --variant=minbase bookworm "$cache/base" ${mirror:+"$mirror"} >"$cache/debootstrap.log" 2>&1 ||
    fail "debootstrap failed (log: $cache/debootstrap.log)"
  tar -C "$cache/base" -cf "$cache/base.tar.tmp" . && mv "$cache/base.tar.tmp" "$cache/base.tar" && rm -rf "$cache/base"
fi
root=$(mktemp -d "$cache/pkgtest.XXXX")
cleanup() { umount -l "$root/proc" 2>/dev/null || true; rm -rf "$root"; }
trap cleanup EXIT
tar -C "$root" -xf "$cache/base.tar"
cp /etc/resolv.conf "$root/etc/" 2>/dev/null || true
mount -t proc proc "$root/proc"
cp "$deb" "$deb2" "$root/tmp/"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive bash -c "$1"; }
in_root "apt-get update -q >/dev/null && apt-get install -y -q ./tmp/$(basename "$deb")" >"$cache/install.log" 2>&1 ||
  { tail -20 "$cache/install.log"; fail "apt-get install ./$(basename "$deb")"; }
pass "apt-get install resolved the dependencies"

in_root 'getent passwd sessionwatch >/dev/null' || fail "no sessionwatch user"
[ "$(in_root 'stat -c %a:%U:%G /etc/sessionwatch/sessionwatch.yaml')" = 640:root:sessionwatch ] ||
  fail "config is $(in_root 'stat -c %a:%U:%G /etc/sessionwatch/sessionwatch.yaml'), not 640:root:sessionwatch"
[ "$(in_root 'stat -c %a:%U /var/lib/sessionwatch')" = 750:sessionwatch ] || fail "data dir owner/mode"
wants=/etc/systemd/system/multi-user.target.wants/sessionwatch.service
in_root "test -L $wants" || fail "the unit was not enabled on first install"
pass "user, config 0640 root:sessionwatch, data dir, unit enabled"
in_root 'sessionwatch check -c /etc/sessionwatch/sessionwatch.yaml' >/dev/null 2>&1 ||
  fail "sessionwatch check refuses the installed config: $(in_root 'sessionwatch check -c /etc/sessionwatch/sessionwatch.yaml' 2>&1 | tail -5)"
alerts=$(in_root 'sessionwatch scan /usr/share/sessionwatch/examples/sample_events.xml /usr/share/sessionwatch/examples/sample_tool_output.txt' | grep -c '"code":"7063"' || true)
[ "$alerts" -gt 0 ] || fail "scan of the installed sample raised no 7063 alert"
pass "check passes on the installed config; scan of the installed sample: $alerts alert(s) with 7063"
in_root 'sessionwatch check -c /etc/sessionwatch/sessionwatch.yaml' 2>&1 | grep -q '/etc/sessionwatch/rules.d' ||
  fail "the installed config does not read local rules from /etc/sessionwatch/rules.d"
in_root 'sessionwatch version' | grep -q '^  openssl ' || fail "version lists no libraries"
in_root 'sessionwatch help' | grep -q 'rules xpath' || fail "help does not list rules xpath"
pass "version lists libraries; help lists every command"

echo "== upgrade keeps the admin's choices"
# What `systemctl disable` does (no systemd runs in the root): the wants link goes.
in_root "rm -f $wants; echo '# edited by the admin' >> /etc/sessionwatch/sessionwatch.yaml"
in_root "test ! -e $wants" || fail "could not disable the unit"
in_root "apt-get install -y -q ./tmp/$(basename "$deb2")" >"$cache/upgrade.log" 2>&1 || { tail -20 "$cache/upgrade.log"; fail "upgrade"; }
in_root "dpkg-query -W -f='\${Version}' sessionwatch" | grep -q upgrade1 || fail "not upgraded"
in_root 'tail -1 /etc/sessionwatch/sessionwatch.yaml' | grep -q 'edited by the admin' || fail "upgrade replaced the edited config"
in_root "test ! -e $wants" || fail "upgrade re-enabled the unit the admin disabled"
[ "$(in_root 'stat -c %a:%G /etc/sessionwatch/sessionwatch.yaml')" = 640:sessionwatch ] || fail "upgrade changed the config's mode"
pass "edited config kept, disabled unit stays disabled, mode kept"
in_root "cp /etc/sessionwatch/sessionwatch.yaml /tmp/good.yaml; echo 'nosuchkey: 1' >> /etc/sessionwatch/sessionwatch.yaml
  /var/lib/dpkg/info/sessionwatch.postinst configure $version; cp /tmp/good.yaml /etc/sessionwatch/sessionwatch.yaml" \
  >"$cache/badconfig.log" 2>&1 || true
grep -q "refuses the configuration" "$cache/badconfig.log" || { cat "$cache/badconfig.log"; fail "postinst does not say why it would not start"; }
pass "a refused config is named, not started"

echo "== remove, purge"
in_root 'apt-get remove -y -q sessionwatch' >"$cache/remove.log" 2>&1 || { tail "$cache/remove.log"; fail "remove"; }
in_root 'test ! -e /usr/bin/sessionwatch && test -e /etc/sessionwatch/sessionwatch.yaml' || fail "remove: binary left or config gone"
in_root "test ! -e $wants" || fail "remove left the unit enabled"
pass "remove: binary gone, config kept, unit disabled"
in_root 'apt-get purge -y -q sessionwatch' >"$cache/purge.log" 2>&1 || { tail "$cache/purge.log"; fail "purge"; }
for p in /etc/sessionwatch /var/lib/sessionwatch /var/log/sessionwatch /usr/share/sessionwatch /usr/share/doc/sessionwatch; do
  in_root "test ! -e $p" || fail "purge left $p"
done
in_root 'getent passwd sessionwatch >/dev/null' && fail "purge left the user"
in_root 'dpkg-statoverride --list | grep -q sessionwatch' && fail "purge left the statoverride"
pass "purge: nothing left, user and override gone"
echo "package-test.sh: all package checks passed"
