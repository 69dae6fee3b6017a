# bash completion for vswitch-ctl.                        -*- shell-script -*-
#
# vswitch-ctl completes its own command line ("vswitch-ctl __complete
# BREAKS LINE"): it knows its command table and the port types, and asks
# the daemon (the one --socket names, if the line names one) for its ports
# and VNIs, giving up after a second.  This function only hands it the
# line and gives bash the answer: a line of flags ("files", "nospace"),
# the part of the word being replaced, then the candidates.  It needs
# nothing but bash itself.

_vswitch_ctl()
{
    local prog=${COMP_WORDS[0]} flags word
    local -a answer

    # The tool the line names, which may not be the one on $PATH.
    [[ $prog == "~/"* ]] && prog=$HOME/${prog:2}
    mapfile -t answer < <("$prog" __complete "$COMP_WORDBREAKS" \
                              "${COMP_LINE:0:COMP_POINT}" 2>/dev/null \
                              </dev/null)
    flags=" ${answer[0]-} "
    word=${answer[1]-}
    COMPREPLY=("${answer[@]:2}")
    if [[ $flags == *" files "* ]]; then
        compopt -o filenames 2>/dev/null
        mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY \
            < <(compgen -f -- "$word")
    fi
    if [[ $flags == *" nospace "* ]]; then
        compopt -o nospace 2>/dev/null
    fi
    return 0
}
complete -F _vswitch_ctl vswitch-ctl
