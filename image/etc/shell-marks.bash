#!/bin/bash
# Sourced, never run: the shell marks (OSC 133, as terminals call them) that let
# the terminal server tell where each command starts and ends, and how it ended,
# for the room (ROOM_SERVICE_URL). The terminal server removes them from the
# output before any page or the history sees them.
#   ESC ] 133 ; C BEL                      a command line was read: its output follows (from PS0)
#   ESC ] 133 ; D ; <status> ; <text> BEL  it ended with <status>; <text> is the line as the
#                                          history has it, control characters made spaces
#   ESC ] 133 ; A BEL                      the prompt starts
# D and A come from PROMPT_COMMAND. Whatever PROMPT_COMMAND the workshop or the
# user sets (before or after this file, as a string or, in bash 5.1 and later,
# as an array) keeps running, after the marks and with $? as the command left it.
# Loaded once per shell: by the image's profile (profile.d/30-shell-marks.sh),
# or at the first prompt through the PROMPT_COMMAND the terminal server gives
# shells started without it (terminal-server/src/shell-environment.ts).

if [[ $- == *i* && -z ${__wt_marks_loaded-} ]]; then
  __wt_marks_loaded=1
  __wt_marks_c=$'\e]133;C\a'
  # What PROMPT_COMMAND held besides the marks, run after them.
  __wt_marks_kept=()
  # The command and history numbers at the last prompt: a command ran when the first moved,
  # and it is in the history when the second did.
  __wt_marks_command='\#'
  __wt_marks_command=${__wt_marks_command@P}
  __wt_marks_history='\!'
  __wt_marks_history=${__wt_marks_history@P}
  # An empty history numbers itself 1, as it does with one line: the first line would not count.
  [[ -n $(history 1) ]] || __wt_marks_history=0
  __wt_marks_text=

  __wt_marks_status() { return "$1"; }

  __wt_marks_prompt() {
    local status=$? command='\#' history='\!' entry kept
    command=${command@P}
    history=${history@P}
    # No mark for an empty line or Ctrl-C at the prompt: no command ran.
    if [[ $command != "$__wt_marks_command" ]]; then
      if [[ $history != "$__wt_marks_history" ]]; then
        local HISTTIMEFORMAT=
        entry=$(history 1)
        entry=${entry#*[0-9] }
        entry=${entry#"${entry%%[![:space:]]*}"}
        __wt_marks_text=${entry:0:300}
        __wt_marks_text=${__wt_marks_text//[[:cntrl:]]/ }
      elif [[ $HISTCONTROL != *dups* && $HISTCONTROL != *ignoreboth* ]]; then
        # Not in the history (a leading space, or history off): its text is not known.
        __wt_marks_text=
      fi
      printf '\e]133;D;%s;%s\a' "$status" "$__wt_marks_text"
    fi
    __wt_marks_command=$command
    __wt_marks_history=$history
    for kept in "${__wt_marks_kept[@]}"; do
      __wt_marks_status "$status"
      eval "$kept"
    done
    printf '\e]133;A\a'
    return "$status"
  }

  # Takes into __wt_marks_kept what PROMPT_COMMAND holds besides the marks (and the
  # terminal server's first-prompt loader), and puts the marks first.
  __wt_marks_adopt() {
    # shellcheck disable=SC2016 # the loader as written in PROMPT_COMMAND, not expanded
    local item loader='. "$TERMINAL_SHELL_MARKS"'
    for item in "${PROMPT_COMMAND[@]}"; do
      item=${item#"$loader"}
      item=${item#;}
      item=${item//__wt_marks_prompt/:}
      item=${item//__wt_marks_check/:}
      [[ $item == *[![:space:]:\;]* ]] && __wt_marks_kept+=("$item")
    done
    unset PROMPT_COMMAND
    PROMPT_COMMAND=__wt_marks_prompt
    # bash 5.1 and later run every element of an array PROMPT_COMMAND, in order: a
    # check kept last puts the marks back first when a later `PROMPT_COMMAND=...` (a
    # workshop's profile script, ~/.bashrc) replaced them, keeping what it set.
    if ((BASH_VERSINFO[0] > 5 || (BASH_VERSINFO[0] == 5 && BASH_VERSINFO[1] >= 1))); then
      PROMPT_COMMAND[99]=__wt_marks_check
    fi
    [[ ${PS0-} == *"$__wt_marks_c"* ]] || PS0=$__wt_marks_c${PS0-}
  }

  __wt_marks_check() {
    local status=$? item
    if [[ ${PROMPT_COMMAND[0]-} != __wt_marks_prompt || ${PS0-} != *"$__wt_marks_c"* ]]; then
      # The command before this prompt went unmarked (its status is lost): the next ones are not.
      item=${PROMPT_COMMAND[0]-}
      unset 'PROMPT_COMMAND[0]'
      local -a rest=("${PROMPT_COMMAND[@]}")
      PROMPT_COMMAND=("$item")
      for item in "${rest[@]}"; do [[ $item == __wt_marks_check ]] || PROMPT_COMMAND+=("$item"); done
      __wt_marks_adopt
    fi
    return "$status"
  }

  __wt_marks_adopt
fi
