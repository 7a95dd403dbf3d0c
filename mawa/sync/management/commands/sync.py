"""``mawa sync``: bundles of changes between a post and headquarters (issue 17's contract).

    mawa sync export --output FILE [--to CODE]   everything the other side has not acknowledged
    mawa sync import FILE                        applied / already present / in conflict; exit 0
                                                 for a valid bundle, non-zero and nothing
                                                 applied otherwise
    mawa sync status                             last contact, pending each way, conflicts
    mawa sync push URL | pull URL                the same over HTTPS (mawa.sync.transport)
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

from django.core.management.base import CommandError
from django.utils import formats
from django.utils.translation import gettext as _

from mawa.core.management.base import MawaCommand
from mawa.sync import transport
from mawa.sync.services import sync_export, sync_import, sync_status


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (0600), whole or not at all."""
    tmp = path.with_name(f".{path.name}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


class Command(MawaCommand):
    help = ("Field operations: `export --output FILE [--to CODE]` writes a bundle of everything "
            "the other node has not acknowledged; `import FILE` applies a bundle (prints how "
            "many changes were applied, already present and in conflict; exit 0 for a valid "
            "bundle, non-zero with nothing applied otherwise); `status` shows last contact, "
            "what is pending each way and the conflicts waiting.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="write a bundle for the other node")
        export.add_argument("--output", required=True, metavar="FILE")
        export.add_argument("--to", metavar="CODE",
                            help="the node the bundle is for (needed with several peers)")
        imp = sub.add_parser("import", help="apply a bundle from another node")
        imp.add_argument("file")
        imp.add_argument("--json", action="store_true", help="print the counts as JSON")
        status = sub.add_parser("status", help="last contact, pending, conflicts")
        status.add_argument("--json", action="store_true", help="print the status as JSON")
        for name, text in (("push", "send this node's changes to the server at URL"),
                           ("pull", "fetch and apply what the server at URL has for this node")):
            over_https = sub.add_parser(name, help=text)
            over_https.add_argument("url")
            over_https.add_argument("--json", action="store_true",
                                    help="print the counts as JSON")
            transport.command_add_arguments(over_https)

    def handle(self, *args, action, **options):
        if action == "export":
            data = sync_export(to=options.get("to"))
            output = Path(options["output"])
            _write_private(output, data)
            self.stdout.write(_("Bundle written to %(file)s (%(size)s bytes).")
                              % {"file": output, "size": len(data)})
        elif action == "import":
            try:
                data = Path(options["file"]).read_bytes()
            except OSError as exc:
                raise CommandError(_("Cannot read %(file)s: %(error)s")
                                   % {"file": options["file"], "error": exc.strerror}) from exc
            result = sync_import(data)
            if options["json"]:
                self.stdout.write(json.dumps(dataclasses.asdict(result)))
                return
            self.stdout.write(_("Bundle from %(node)s: %(applied)s applied, %(present)s already "
                                "present, %(conflicts)s in conflict, %(waiting)s waiting for "
                                "earlier changes.")
                              % {**dataclasses.asdict(result), "node": result.sender})
        elif action in ("push", "pull"):
            counts = transport.command_run(action, options["url"], options)
            if options["json"]:
                self.stdout.write(json.dumps(counts))
                return
            self.stdout.write(_("%(applied)s applied, %(present)s already present, "
                                "%(conflicts)s in conflict, %(waiting)s waiting for earlier "
                                "changes.") % {"waiting": 0, **counts})
        else:
            self._status(as_json=options["json"])

    def _status(self, *, as_json: bool) -> None:
        status = sync_status()
        if as_json:
            self.stdout.write(json.dumps(dataclasses.asdict(status), default=str))
            return
        never = _("never")

        def when(moment):
            return formats.date_format(moment, "Y-m-d H:i") if moment else never

        self.stdout.write(_("Node %(node)s: %(conflicts)s conflicts to decide, %(waiting)s "
                            "changes waiting for earlier ones.")
                          % {"node": status.node, "conflicts": status.conflicts_open,
                             "waiting": status.waiting})
        for peer in status.peers:
            self.stdout.write(_("  %(peer)s: last received %(received)s, last sent %(sent)s; "
                                "%(out)s changes to send, %(in)s to receive.")
                              % {"peer": peer.code, "received": when(peer.last_received_at),
                                 "sent": when(peer.last_sent_at), "out": peer.pending_out,
                                 "in": peer.pending_in})
