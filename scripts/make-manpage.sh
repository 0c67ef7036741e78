#!/usr/bin/env bash
# Writes the sessionwatch(8) man page to standard output, generated from the binary's own help
# (`sessionwatch help` and `sessionwatch help COMMAND`), so the page and --help never disagree.
#   scripts/make-manpage.sh path/to/sessionwatch > sessionwatch.8
set -euo pipefail
bin=${1:?usage: make-manpage.sh SESSIONWATCH_BINARY}
version=$("$bin" version | sed -n '1s/^sessionwatch //p')
date=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y-%m-%d)

# roff-safe text: backslashes escaped, a leading dot or quote made literal.
escape() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/" -e 's/-/\\-/g'; }
verbatim() { echo ".nf"; escape; echo ".fi"; }

help=$("$bin" help)
summary=$(printf '%s\n' "$help" | sed -n '1s/^sessionwatch - //p')
# The description is the paragraph between the title and "Usage:".
description=$(printf '%s\n' "$help" | sed -n '2,/^Usage:/p' | sed '/^Usage:/d')
commands=$(printf '%s\n' "$help" | sed -n '/^Commands:/,/^$/p' | sed -n 's/^  \([a-z][a-z]*\) .*/\1/p; s/^  \([a-z][a-z]*\)$/\1/p' |
  awk '$1 != "help" && !seen[$1]++')

cat <<ROFF
.TH SESSIONWATCH 8 "$date" "sessionwatch $version" "System Administration"
.SH NAME
sessionwatch \\- $(printf '%s' "$summary" | escape)
.SH SYNOPSIS
.B sessionwatch
.I command
.RI [ options ]
.SH DESCRIPTION
$(printf '%s\n' "$description" | sed '/^$/d' | escape)
ROFF
# Each "Heading:" block of the top-level help becomes a section.
printf '%s\n' "$help" | awk '/^(Usage|Commands|Examples|Files|Exit status):/ {print}' | while read -r heading; do
  title=$(printf '%s' "${heading%%:*}" | tr '[:lower:]' '[:upper:]')
  [ "$title" = USAGE ] && continue
  echo ".SH $title"
  printf '%s\n' "$help" | awk -v h="$heading" '
    index($0, h) == 1 { on = 1; rest = substr($0, length(h) + 1); sub(/^ +/, "", rest); if (rest != "") print rest; next }
    on && /^[A-Z][a-z ]+:/ { exit }
    on { print }' | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' | verbatim
done
echo ".SH COMMANDS IN DETAIL"
for c in $commands; do
  echo ".SS $c"
  "$bin" help "$c" 2>&1 | verbatim
done
cat <<'ROFF'
.SH SEE ALSO
.BR systemctl (1),
.BR journalctl (1);
the documentation in /usr/share/doc/sessionwatch.
ROFF
