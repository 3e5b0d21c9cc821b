# The shell marks for the room, in interactive bash, when the terminal server
# asks for them (it names the file in TERMINAL_SHELL_MARKS when ROOM_SERVICE_URL
# is set): see shell-marks.bash beside this folder.
if [ -n "${BASH_VERSION:-}" ] && [ -n "${TERMINAL_SHELL_MARKS:-}" ] && [ -r "$TERMINAL_SHELL_MARKS" ]; then
  case $- in
    *i*)
      # shellcheck disable=SC1090 # the file the terminal server names
      . "$TERMINAL_SHELL_MARKS"
      ;;
  esac
fi
