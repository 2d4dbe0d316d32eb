# SPDX-License-Identifier: ISC
"""Client connections are spread over the HTTP worker threads.

A worker runs one request at a time, and a request can wait for its
commit, so the keep-alive connections a worker serves wait for each
other. Cobble accepts connections itself and hands them to the workers in
turn (server/wfe_accept.c); libmicrohttpd left alone lets the first worker
to wake take up to ten of a burst. The test reads which worker serves
which connection from the kernel: each worker has an epoll set, and
/proc/PID/fdinfo lists the descriptors in it.

Since Cobble owns the listening socket, the limits on connections, a port
already taken and an IPv6 address are checked here too."""

import copy
import json
import os
import shutil
import socket
import ssl
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


def _connections_by_epoll_set(pid, port):
	"""{epoll descriptor: how many of the connections to PORT it holds}."""
	fds = "/proc/%d/fd" % pid
	conns = set()
	epolls = []
	wanted = _inodes_of_connections(port)
	for name in os.listdir(fds):
		try:
			target = os.readlink(os.path.join(fds, name))
		except OSError:
			continue
		if target.startswith("socket:[") and target[8:-1] in wanted:
			conns.add(int(name))
		elif target == "anon_inode:[eventpoll]":
			epolls.append(int(name))
	counts = {}
	for e in epolls:
		with open("/proc/%d/fdinfo/%d" % (pid, e)) as f:
			held = [int(l.split()[1]) for l in f if l.startswith("tfd:")]
		n = sum(1 for fd in held if fd in conns)
		if n:
			counts[e] = n
	return conns, counts


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
		conns, counts = _connections_by_epoll_set(cobble.proc.pid,
		    cobble.port)
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
