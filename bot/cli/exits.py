"""The `holdfast` command's exit codes (listed in `holdfast --help`), and the start-up checks that pick them."""

from __future__ import annotations

import errno
import socket

OK = 0
FAILED = 1  # the command ran and found a problem (an invalid chain, a job that is not dead, a reload nobody got)
CONFIG = 2  # a setting, flag or file is wrong (argparse's usage errors exit 2 too)
DATABASE_UNREACHABLE = 3  # DATABASE_URL is fine but nothing answers there: worth retrying once the server is up
NOT_MIGRATED = 4  # the database answers but its schema is behind: run `holdfast migrate`
PORT_IN_USE = 5  # the port a server would listen on is taken

EPILOG = f"""exit codes:
  {OK}  done
  {FAILED}  the command ran and found a problem (an invalid audit chain, no dead job with that id, …)
  {CONFIG}  a setting, flag or file is wrong: DATABASE_URL unparsable, unsupported or its folder missing, a policy
     file with problems, a required variable unset
  {DATABASE_UNREACHABLE}  the database at DATABASE_URL does not answer (or refuses holdfast's credentials)
  {NOT_MIGRATED}  the database has not been migrated to this version: run `holdfast migrate`
  {PORT_IN_USE}  the port to listen on is already in use"""


def port_problem(*, host: str, port: int, setting: str, host_setting: str = "--host") -> str | None:
    """The operator sentence when `host:port` cannot be listened on (`setting` names the flag that chose it)."""
    if port == 0:  # any free port
        return None
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As aiohttp binds (SO_REUSEADDR): a port left in TIME_WAIT by a server that just stopped is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            return bind_problem(error, host=host, port=port, setting=setting, host_setting=host_setting)
    return None


def bind_problem(error: OSError, *, host: str, port: int, setting: str, host_setting: str = "--host") -> str:
    """The operator sentence for an OSError raised while binding `host:port`."""
    if error.errno == errno.EADDRINUSE:
        return (f"port {port} on {host} is already in use ({setting}): stop the process listening there "
                f"(e.g. `lsof -i :{port}`) or choose a free port.")
    if error.errno == errno.EACCES:
        return f"port {port} on {host} needs privileges this user lacks ({setting}): choose a port above 1023."
    if error.errno == errno.EADDRNOTAVAIL or isinstance(error, socket.gaierror):
        return (f"{host} is not an address of this machine ({host_setting}): listen on 0.0.0.0, 127.0.0.1 or one of "
                f"its own.")
    return f"cannot listen on {host}:{port} ({setting}): {error.strerror or error}."
