# SPDX-License-Identifier: ISC
"""The cobble command line: help, version, usage errors and configuration
errors give clear messages and the right exit codes; --check-config prints
the effective configuration with secrets redacted."""

import json
import os
import subprocess
import tempfile

from conftest import cobble_bin


def run(*args):
	return subprocess.run([cobble_bin(), *args], capture_output=True,
	    text=True, timeout=30)


def write_config(text):
	fd, path = tempfile.mkstemp(suffix=".json", prefix="cobble-cli-")
	with os.fdopen(fd, "w") as f:
		f.write(text)
	return path


def test_help_and_version():
	r = run("--help")
	assert r.returncode == 0
	assert "usage: cobble serve -c FILE" in r.stdout
	r = run("--version")
	assert r.returncode == 0
	assert r.stdout.startswith("cobble ")
	r = run("serve", "--help")
	assert r.returncode == 0 and "--check-config" in r.stdout


def test_usage_errors_exit_2():
	for args in ([], ["frobnicate"], ["serve"], ["serve", "-c"],
	    ["serve", "-c", "a.json", "extra"], ["serve", "--bogus"]):
		r = run(*args)
		assert r.returncode == 2, args
		assert "usage:" in r.stderr, args


def test_missing_file():
	r = run("serve", "-c", "/nonexistent/cobble.json", "--check-config")
	assert r.returncode == 2
	assert "/nonexistent/cobble.json" in r.stderr


def test_config_errors_name_file_and_key():
	cases = [
	    ('{"server": {"prot": 1}}', "server.prot: unknown key"),
	    ('{"server": {"port": "x"}}', "server.port: expected an integer"),
	    ('{"server": {"port": 70000}}', "server.port: must be between"),
	    ('{"ca": {"key_type": "dsa"}}', "ca.key_type"),
	    ('{"server": {', "line 1 column"),
	]
	for text, want in cases:
		path = write_config(text)
		try:
			r = run("serve", "-c", path, "--check-config")
			assert r.returncode == 2, text
			assert path in r.stderr and want in r.stderr, r.stderr
		finally:
			os.unlink(path)


def test_check_config_redacts_secrets():
	path = write_config(json.dumps({
	    "state_dir": "/tmp/cobble-cli-state",
	    "storage": {"dsn": "host=db user=cobble password=hunter2"},
	    "server": {"port": 14999},
	}))
	try:
		r = run("serve", "-c", path, "--check-config")
		assert r.returncode == 0, r.stderr
		assert "hunter2" not in r.stdout + r.stderr
		cfg = json.loads(r.stdout)
		assert cfg["storage"]["dsn"] == "(redacted)"
		assert cfg["server"]["port"] == 14999
		assert cfg["server"]["base_url"] == "https://localhost:14999"
		assert not os.path.exists("/tmp/cobble-cli-state")
	finally:
		os.unlink(path)
