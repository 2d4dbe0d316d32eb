# SPDX-License-Identifier: ISC
"""Client connections are spread over the HTTP worker threads.

A worker runs one request at a time, and a request can wait for its
commit, so the keep-alive connections a worker serves wait for each
other. Cobble accepts connections itself and hands them to the workers in
turn (server/wfe_accept.c); libmicrohttpd left alone lets the first worker
to wake take up to ten of a burst. The test reads which worker serves
which connection from the kernel: an idle worker waits in poll(2), and
/proc/PID/task/TID/syscall gives the array of descriptors it waits on,
which /proc/PID/mem then shows.

A TLS handshake that waits on the client must not cost the server CPU
(libmicrohttpd 0.9.75 spins in its epoll mode; Cobble uses poll).

Since Cobble owns the listening socket, the limits on connections, a port
already taken and an IPv6 address are checked here too."""

import copy
import json
import os
import shutil
import socket
import ssl
import struct
import subprocess
import time

import pytest
import requests

from conftest import (Cobble, _wait_ready, cobble_bin, log_complaints,
    stop_cobble)
from e2e_util import free_port, make_tmpdir

PER_IP = 9
COBBLE_CONFIG = {"server": {"threads": 4, "per_ip_connections": PER_IP}}

CONNECTIONS = 8


def _inodes_of_connections(port):
	"""Socket inodes of the established TCP connections to local PORT."""
	inodes = set()
	for table in ("/proc/net/tcp", "/proc/net/tcp6"):
		with open(table) as f:
			next(f)
			for line in f:
				cols = line.split()
				local_port = int(cols[1].rsplit(":", 1)[1], 16)
				if local_port == port and cols[3] == "01":
					inodes.add(cols[9])
	return inodes


# x86-64 system call numbers of poll(2) and ppoll(2): both take the
# pollfd array and its length first.
POLL_SYSCALLS = (7, 271)


def _polled_fds(pid, tid):
	"""The descriptors thread TID of PID waits on in poll(2), or None when
	it is not waiting there."""
	try:
		with open("/proc/%d/task/%d/syscall" % (pid, tid)) as f:
			fields = f.read().split()
	except OSError:
		return None
	if not fields or not fields[0].isdigit() or \
	    int(fields[0]) not in POLL_SYSCALLS:
		return None
	addr, nfds = int(fields[1], 16), int(fields[2], 16)
	with open("/proc/%d/mem" % pid, "rb") as mem:
		mem.seek(addr)
		raw = mem.read(8 * nfds)  # struct pollfd: int fd, short, short
	return [struct.unpack_from("<i", raw, 8 * i)[0] for i in range(nfds)]


def _connections_by_worker(pid, port):
	"""{worker thread: how many of the connections to PORT it serves}."""
	fds = "/proc/%d/fd" % pid
	conns = set()
	wanted = _inodes_of_connections(port)
	for name in os.listdir(fds):
		try:
			target = os.readlink(os.path.join(fds, name))
		except OSError:
			continue
		if target.startswith("socket:[") and target[8:-1] in wanted:
			conns.add(int(name))
	counts = {}
	for tid in map(int, os.listdir("/proc/%d/task" % pid)):
		polled = _polled_fds(pid, tid)
		n = sum(1 for fd in polled or () if fd in conns)
		if n:
			counts[tid] = n
	return conns, counts


def _wait_for_workers(cobble):
	"""_connections_by_worker() once each connection's worker is back
	waiting in poll(2) (or after 10 s, for the assertions to report)."""
	deadline = time.monotonic() + 10
	while True:
		conns, counts = _connections_by_worker(cobble.proc.pid, cobble.port)
		if sum(counts.values()) == len(conns) or \
		    time.monotonic() > deadline:
			return conns, counts
		time.sleep(0.05)


def _cpu_seconds(pid):
	"""User and system CPU time of process PID so far."""
	with open("/proc/%d/stat" % pid) as f:
		fields = f.read().rsplit(")", 1)[1].split()
	return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _get_directory(tls, host):
	tls.sendall(("GET /directory HTTP/1.1\r\nHost: %s\r\n\r\n" %
	    host).encode())
	head = b""
	while b"\r\n\r\n" not in head:
		chunk = tls.recv(4096)
		assert chunk, "connection closed before the response"
		head += chunk
	head, body = head.split(b"\r\n\r\n", 1)
	lines = head.decode().split("\r\n")
	assert lines[0].startswith("HTTP/1.1 200"), lines[0]
	length = [int(l.split(":", 1)[1]) for l in lines
	    if l.lower().startswith("content-length:")][0]
	while len(body) < length:
		chunk = tls.recv(4096)
		assert chunk, "connection closed in the body"
		body += chunk
	assert not any(l.lower() == "connection: close" for l in lines), lines


def _open(cobble, n):
	"""N TLS connections to COBBLE, all connected before any handshake."""
	raw = [socket.create_connection(("127.0.0.1", cobble.port))
	    for _ in range(n)]
	ctx = ssl.create_default_context(cafile=cobble.root)
	return raw, [ctx.wrap_socket(s, server_hostname="localhost",
	    do_handshake_on_connect=False) for s in raw]


def _wait_closed(cobble):
	"""Until the server holds no connection to its port."""
	deadline = time.monotonic() + 10
	while _inodes_of_connections(cobble.port):
		assert time.monotonic() < deadline, "connections still open"
		time.sleep(0.05)


def test_a_burst_of_connections_is_spread_over_the_workers(cobble):
	# All connect before any is served: a burst, as when a client pool
	# opens its connections.
	_wait_closed(cobble)
	raw, tls = _open(cobble, CONNECTIONS)
	try:
		for t in tls:
			t.do_handshake()
			_get_directory(t, "localhost:%d" % cobble.port)
		conns, counts = _wait_for_workers(cobble)
		assert len(conns) == CONNECTIONS, conns
		assert sum(counts.values()) == CONNECTIONS, counts
		# Four workers, eight connections: two each when the accepted
		# descriptors are consecutive; one more where a free lower
		# descriptor broke the run.
		assert len(counts) == 4, counts
		assert max(counts.values()) <= 3, counts
	finally:
		for t in tls:
			t.close()


def test_a_handshake_waiting_on_the_client_costs_no_cpu(cobble):
	# The client's second flight (its Finished) is held back for a second,
	# as a distant or stalled client would: the server's worker must wait
	# for it in poll(2), not spin.
	ctx = ssl.create_default_context(cafile=cobble.root)
	incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
	tls = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
	sock = socket.create_connection(("127.0.0.1", cobble.port))
	sock.settimeout(10)
	try:
		while True:
			try:
				tls.do_handshake()
				break
			except ssl.SSLWantReadError:
				sock.sendall(outgoing.read())
				chunk = sock.recv(65536)
				assert chunk, "closed during the handshake"
				incoming.write(chunk)
		# The client is done; the server waits for what OUTGOING holds.
		before = _cpu_seconds(cobble.proc.pid)
		time.sleep(1.0)
		spent = _cpu_seconds(cobble.proc.pid) - before
		assert spent < 0.3, "%.2f s of CPU in a 1 s wait" % spent
		tls.write(b"GET /directory HTTP/1.1\r\nHost: localhost:%d\r\n"
		    b"Connection: close\r\n\r\n" % cobble.port)
		sock.sendall(outgoing.read())
		reply = b""
		while b"\r\n" not in reply:
			try:
				reply += tls.read(4096)
			except ssl.SSLWantReadError:
				chunk = sock.recv(65536)
				assert chunk, "closed before the response"
				incoming.write(chunk)
		assert reply.startswith(b"HTTP/1.1 200"), reply[:40]
	finally:
		sock.close()


def test_per_ip_connection_limit(cobble):
	"""server.per_ip_connections still holds for the connections Cobble
	accepts itself: the one over it is closed unanswered, the others are
	served."""
	_wait_closed(cobble)
	raw, tls = _open(cobble, PER_IP + 1)
	try:
		served = refused = 0
		for t in tls:
			try:
				t.do_handshake()
				_get_directory(t, "localhost:%d" % cobble.port)
				served += 1
			except (ssl.SSLError, OSError):
				refused += 1
		assert (served, refused) == (PER_IP, 1)
	finally:
		for t in tls:
			t.close()


def test_port_in_use(cobble):
	"""A second server on the same port stops at once with a clear
	message and status 1, and the first goes on serving."""
	d = make_tmpdir("port-in-use")
	try:
		config = copy.deepcopy(cobble.config)
		config["state_dir"] = os.path.join(d, "state")
		path = os.path.join(d, "cobble.json")
		with open(path, "w") as f:
			json.dump(config, f)
		r = subprocess.run([cobble_bin(), "serve", "-c", path],
		    capture_output=True, text=True, timeout=120)
		assert r.returncode == 1, r.stderr
		assert "cannot listen on 127.0.0.1 port %d" % cobble.port in \
		    r.stderr, r.stderr
	finally:
		shutil.rmtree(d, ignore_errors=True)
	_wait_closed(cobble)
	raw, tls = _open(cobble, 1)
	try:
		tls[0].do_handshake()
		_get_directory(tls[0], "localhost:%d" % cobble.port)
	finally:
		tls[0].close()


def test_listen_on_ipv6_loopback(cobble):
	"""server.listen "::1": Cobble's own listening socket binds the IPv6
	address, and the API answers there, not on 127.0.0.1."""
	d = make_tmpdir("ipv6")
	config = copy.deepcopy(cobble.config)
	config["state_dir"] = os.path.join(d, "state")
	config["server"]["listen"] = "::1"
	config["server"]["port"] = port = free_port()
	path = os.path.join(d, "cobble.json")
	with open(path, "w") as f:
		json.dump(config, f)
	log = os.path.join(d, "cobble.log")
	with open(log, "wb") as logf:
		proc = subprocess.Popen([cobble_bin(), "serve", "-c", path],
		    stdout=logf, stderr=subprocess.STDOUT,
		    stdin=subprocess.DEVNULL, cwd=d)
	inst = Cobble(d, config, proc, log)
	inst.url = "https://[::1]:%d/directory" % port
	try:
		err = _wait_ready(inst, 60)
		assert err is None, "%s\n%s" % (err, inst.log_tail())
		r = requests.get(inst.url, verify=inst.root, timeout=5)
		assert "newOrder" in r.json(), r.text
		with pytest.raises(OSError):
			socket.create_connection(("127.0.0.1", port), timeout=2)
	finally:
		bad = stop_cobble(inst) + log_complaints(inst)
	shutil.rmtree(d, ignore_errors=True)
	assert not bad, bad
