# bash completion for sessionwatch. Commands and options are read from the installed binary's own
# help (`sessionwatch help`, `sessionwatch help COMMAND`), so completion follows the binary.
_sessionwatch() {
  local cur prev words cword
  _init_completion || return
  local bin=${words[0]}
  if [ "$cword" -eq 1 ]; then
    local commands
    commands=$("$bin" help 2>/dev/null | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z]*\).*/\1/p' | sort -u)
    COMPREPLY=($(compgen -W "$commands" -- "$cur"))
    return
  fi
  local command=${words[1]}
  case "$command" in
    help) [ "$cword" -eq 2 ] && COMPREPLY=($(compgen -W "$("$bin" help 2>/dev/null |
            sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z]*\).*/\1/p' | sort -u)" -- "$cur"))
          return ;;
    rules) if [ "$cword" -eq 2 ]; then COMPREPLY=($(compgen -W "check test xpath" -- "$cur")); return; fi ;;
    service) if [ "$cword" -eq 2 ]; then
               COMPREPLY=($(compgen -W "install configure uninstall start stop status run" -- "$cur")); return
             fi ;;
  esac
  case "$prev" in
    -c|--config|--rules|-o|--output) _filedir; return ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$("$bin" help "$command" 2>&1 | grep -o -- '--[a-z][a-z-]*' | sort -u)" -- "$cur"))
    return
  fi
  _filedir
}
complete -F _sessionwatch sessionwatch
