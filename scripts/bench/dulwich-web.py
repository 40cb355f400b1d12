"""dulwich's smart HTTP server as `python3 -m dulwich.web` runs it (wsgiref, one thread, request
logging), serving every bare repository under ROOT by its path instead of one repository at `/`:

    python3 scripts/bench/dulwich-web.py ROOT PORT

Listens on 127.0.0.1 only. dulwich 0.21 answers protocol v0 (no `Git-Protocol: version=2`).
"""
import sys

from dulwich import log_utils
from dulwich.server import FileSystemBackend
from dulwich.web import WSGIRequestHandlerLogger, WSGIServerLogger, make_server, make_wsgi_chain


class RootedBackend(FileSystemBackend):
    """FileSystemBackend joins the URL's absolute path to its root as is, which escapes the root."""

    def open_repository(self, path):
        return super().open_repository(path.lstrip("/"))


def main(root, port):
    log_utils.default_logging_config()
    app = make_wsgi_chain(RootedBackend(root))
    server = make_server("127.0.0.1", int(port), app, handler_class=WSGIRequestHandlerLogger, server_class=WSGIServerLogger)
    server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: dulwich-web.py ROOT PORT")
    main(*sys.argv[1:])
