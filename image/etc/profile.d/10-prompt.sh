# The prompt workshop notes show: [user:dir] $ under JupyterHub, else [dir] $.
case $- in
  *i*)
    if [ -n "${JUPYTERHUB_USER:-}" ]; then
      PS1="[$JUPYTERHUB_USER:\\w] \\$ "
    else
      PS1='[\w] \$ '
    fi
    ;;
esac
