"""A TCP relay run in-process (a thread) between the service and PostgreSQL, so a test can cut the
database's connections without touching the machine's server (issue 12 fault 4): `cut()` closes
every relayed connection at once (as a server restart or a network fault does) and, until
`restore()`, refuses new ones. `cut_on(marker)`: the cut happens when a client next sends a
chunk containing each part of `marker` (e.g. b"INSERT INTO outbox_jobs", b"termination-"), before it reaches the server: the
connection dies inside its open transaction, after the statements before it ran."""
import socket
import threading


class Relay:
    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.down = False
        self.cuts = 0
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopped = False
        self._marker: tuple[bytes, ...] | None = None
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        """Close every relayed connection and refuse new ones until `restore()`."""
        with self._lock:
            self.down, self.cuts = True, self.cuts + 1
            for sock in list(self._open):
                self._close(sock)

    def cut_on(self, marker: tuple[bytes, ...]) -> None:
        """Cut everything (as `cut`) when a client next sends a chunk containing each of `marker`."""
        self._marker = marker

    def restore(self) -> None:
        with self._lock:
            self.down = False

    def stop(self) -> None:
        self._stopped = True
        self.cut()
        self.listener.close()

    def _close(self, sock: socket.socket) -> None:
        self._open.discard(sock)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self._lock:
                down = self.down
            if down:
                client.close()  # the server is gone: the connection ends at once
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=2)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for a, b, to_server in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(target=self._pump, args=(a, b, to_server), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, to_server: bool) -> None:
        try:
            while chunk := source.recv(65536):
                if to_server and self._marker and all(part in chunk for part in self._marker):
                    self._marker = None
                    self.cut()  # mid-transaction: this statement never reaches the server
                    return
                sink.sendall(chunk)
        except OSError:
            pass
        with self._lock:
            self._close(source)
            self._close(sink)
