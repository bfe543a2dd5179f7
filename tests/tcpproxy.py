"""A loopback TCP proxy in front of Dovecot that can make the connections it carries go
silently dead, the way a laptop's do over a suspend or a network change: `freeze(rst=True)`
drops whatever either side sends on existing connections and answers the client's next
write with a RST (the server forgot the connection meanwhile); `freeze(rst=False)` is a
black hole (a NAT or a Wi-Fi that went away). New connections pass."""

from __future__ import annotations

import select
import socket
import struct
import threading


class TcpProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream = upstream_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(50)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.conns: list[dict] = []
        self.down = False  # refuse (close at once) new connections: a server that is down
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.down:
                client.close()
                continue
            try:
                server = socket.create_connection(("127.0.0.1", self.upstream))
            except OSError:
                client.close()
                continue
            conn = {"client": client, "server": server, "frozen": False, "rst": False}
            with self.lock:
                self.conns.append(conn)
            threading.Thread(target=self._pump, args=(conn,), daemon=True).start()

    def _pump(self, conn: dict) -> None:
        client, server = conn["client"], conn["server"]
        try:
            while True:
                ready, _, _ = select.select([client, server], [], [], 0.5)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        raise OSError("closed")
                    if conn["frozen"]:
                        if sock is client and conn["rst"]:
                            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                            raise OSError("reset")
                        continue  # dropped
                    (server if sock is client else client).sendall(data)
        except OSError:
            pass
        finally:
            for s in (client, server):
                try:
                    s.close()
                except OSError:
                    pass

    def freeze(self, *, rst: bool) -> int:
        with self.lock:
            for conn in self.conns:
                conn["frozen"], conn["rst"] = True, rst
            n = len(self.conns)
            self.conns = []
        return n

    def drop_all(self) -> None:
        """The server goes away: every connection closed (FIN), as a restart does."""
        with self.lock:
            conns, self.conns = self.conns, []
        for conn in conns:
            for s in (conn["client"], conn["server"]):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> None:
        self._stop = True
        self.listener.close()
        self.drop_all()
