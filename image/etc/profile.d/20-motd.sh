# The workshop's message of the day, once, in interactive shells.
case $- in
  *i*)
    if [ -r /opt/app-root/etc/motd ] && [ -z "${WORKSHOP_MOTD_SHOWN:-}" ]; then
      cat /opt/app-root/etc/motd
      WORKSHOP_MOTD_SHOWN=1
      export WORKSHOP_MOTD_SHOWN
    fi
    ;;
esac
