# SPDX-License-Identifier: ISC
"""Shared helpers for the end-to-end tests: certificate checks with openssl,
a raw ACME client (flattened JWS signed with ES256/ES384/ES512, RS256 or
EdDSA keys), CSRs, and an HTTP-01 responder."""

import base64
import hashlib
import http.server
import json
import os
import re
import socket
import subprocess
import tempfile
import threading
import time

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import \
    decode_dss_signature
from cryptography.x509.oid import NameOID

ERR = "urn:ietf:params:acme:error:"
# Cobble's terms, website and CAA identities in every test instance.
TERMS_URL = "https://cobble.test/terms"
WEBSITE_URL = "https://cobble.test/"
CAA_IDENTITIES = ["cobble.test"]


# ---- ports and temporary folders ----

_handed_out = set()


def _port_free(port, kind):
	s = socket.socket(socket.AF_INET, kind)
	try:
		s.bind(("127.0.0.1", port))
		return True
	except OSError:
		return False
	finally:
		s.close()


def free_port(udp_too=False):
	"""A TCP port on 127.0.0.1 that is free now (and for UDP if UDP_TOO);
	never the same port twice in one run."""
	for _ in range(200):
		s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
		s.bind(("127.0.0.1", 0))
		port = s.getsockname()[1]
		s.close()
		if port in _handed_out:
			continue
		if udp_too and not _port_free(port, socket.SOCK_DGRAM):
			continue
		_handed_out.add(port)
		return port
	raise RuntimeError("no free port found")


def free_udp_port():
	"""A UDP port on 127.0.0.1 that is free now."""
	for _ in range(200):
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s.bind(("127.0.0.1", 0))
		port = s.getsockname()[1]
		s.close()
		if port not in _handed_out:
			_handed_out.add(port)
			return port
	raise RuntimeError("no free UDP port found")


def make_tmpdir(prefix):
	"""A fresh folder that unprivileged users may traverse (the embedded
	PostgreSQL runs as one)."""
	d = tempfile.mkdtemp(prefix="cobble-e2e-" + prefix + "-", dir="/tmp")
	os.chmod(d, 0o755)
	return d


# ---- certificates ----

def run(cmd, **kw):
	r = subprocess.run(cmd, capture_output=True, text=True, **kw)
	return r


def split_pem(text):
	"""The PEM certificates in TEXT, in order."""
	return re.findall(r"-----BEGIN CERTIFICATE-----\r?\n.*?"
	    r"-----END CERTIFICATE-----", text, re.S)


def load_cert(pem):
	if isinstance(pem, str):
		pem = pem.encode()
	return x509.load_pem_x509_certificate(pem)


def write(path, data):
	mode = "wb" if isinstance(data, bytes) else "w"
	with open(path, mode) as f:
		f.write(data)
	return path


def openssl_sans(leaf_path):
	"""The DNS names in the certificate's SAN extension, per openssl."""
	r = run(["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in",
	    leaf_path])
	assert r.returncode == 0, r.stderr
	return sorted(re.findall(r"DNS:([^,\s]+)", r.stdout))


def openssl_pubkey_of_cert(leaf_path):
	r = run(["openssl", "x509", "-noout", "-pubkey", "-in", leaf_path])
	assert r.returncode == 0, r.stderr
	return r.stdout.strip()


def openssl_pubkey_of_key(key_path):
	r = run(["openssl", "pkey", "-pubout", "-in", key_path])
	assert r.returncode == 0, r.stderr
	return r.stdout.strip()


def check_issued(root, leaf_path, chain_path, names, key_type=None,
    key_path=None):
	"""Asserts what a test expects of every issued certificate: it
	verifies to ROOT through CHAIN for TLS servers, its SANs are exactly
	NAMES, its key is KEY_TYPE ("ecdsa"/"rsa", with "ecdsa-p384" etc.)
	and equals the public half of KEY_PATH. Returns the cryptography cert."""
	r = run(["openssl", "verify", "-CAfile", root, "-untrusted",
	    chain_path, "-purpose", "sslserver", leaf_path])
	assert r.returncode == 0 and ": OK" in r.stdout, \
	    "openssl verify failed: %s %s" % (r.stdout, r.stderr)
	assert openssl_sans(leaf_path) == sorted(n.lower() for n in names)
	with open(leaf_path, "rb") as f:
		leafs = split_pem(f.read().decode())
	cert = load_cert(leafs[0])
	pub = cert.public_key()
	if key_type is not None:
		if key_type.startswith("ecdsa"):
			assert isinstance(pub, ec.EllipticCurvePublicKey), \
			    "certificate key is %r, wanted ECDSA" % pub
			curve = {"ecdsa": None, "ecdsa-p256": "secp256r1",
			    "ecdsa-p384": "secp384r1"}[key_type]
			if curve:
				assert pub.curve.name == curve
		elif key_type.startswith("rsa"):
			assert isinstance(pub, rsa.RSAPublicKey), \
			    "certificate key is %r, wanted RSA" % pub
			if key_type != "rsa":
				assert pub.key_size == int(key_type[3:])
			assert pub.public_numbers().e == 65537
		else:
			raise ValueError(key_type)
	if key_path is not None:
		assert openssl_pubkey_of_cert(leaf_path) == \
		    openssl_pubkey_of_key(key_path), \
		    "certificate key differs from the client's key"
	# The profile every issued leaf must have.
	ext = cert.extensions
	eku = ext.get_extension_for_class(x509.ExtendedKeyUsage).value
	assert x509.oid.ExtendedKeyUsageOID.SERVER_AUTH in list(eku)
	bc = ext.get_extension_for_class(x509.BasicConstraints)
	assert bc.value.ca is False
	ku = ext.get_extension_for_class(x509.KeyUsage)
	assert ku.critical and ku.value.digital_signature
	assert not ku.value.key_cert_sign and not ku.value.crl_sign
	if isinstance(pub, ec.EllipticCurvePublicKey):
		assert not ku.value.key_encipherment, ku
	# Random serials, not a counter (at least 64 bits of entropy make a
	# serial shorter than 48 bits a 2^-16 event).
	assert cert.serial_number > 0
	assert cert.serial_number.bit_length() >= 48, cert.serial_number
	# AKI names the issuer's SKI; the leaf has its own SKI.
	with open(chain_path) as f:
		issuer = load_cert(split_pem(f.read())[0])
	aki = ext.get_extension_for_class(x509.AuthorityKeyIdentifier).value
	ski = issuer.extensions.get_extension_for_class(
	    x509.SubjectKeyIdentifier).value
	assert aki.key_identifier == ski.digest
	ext.get_extension_for_class(x509.SubjectKeyIdentifier)
	assert cert.issuer == issuer.subject
	return cert


# ---- base64url, keys and JWS ----

def b64u(data):
	if isinstance(data, str):
		data = data.encode()
	return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_decode(s):
	return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _int_b64u(n, size=None):
	if size is None:
		size = (n.bit_length() + 7) // 8
	return b64u(n.to_bytes(size, "big"))


class Key:
	"""An account or certificate key with its JWK and JWS signing."""

	KINDS = ("ec256", "ec384", "ec521", "rsa2048", "rsa3072", "rsa4096",
	    "rsa1024", "ed25519")

	def __init__(self, priv):
		self.priv = priv
		if isinstance(priv, ec.EllipticCurvePrivateKey):
			self.size = {"secp256r1": 32, "secp384r1": 48,
			    "secp521r1": 66}[priv.curve.name]
			self.alg = {32: "ES256", 48: "ES384", 66: "ES512"}[
			    self.size]
			self.hash = {32: hashes.SHA256(), 48: hashes.SHA384(),
			    66: hashes.SHA512()}[self.size]
		elif isinstance(priv, rsa.RSAPrivateKey):
			self.alg = "RS256"
		elif isinstance(priv, ed25519.Ed25519PrivateKey):
			self.alg = "EdDSA"
		else:
			raise ValueError("unsupported key %r" % priv)

	@classmethod
	def generate(cls, kind="ec256"):
		if kind.startswith("ec"):
			curve = {"ec256": ec.SECP256R1(), "ec384": ec.SECP384R1(),
			    "ec521": ec.SECP521R1()}[kind]
			return cls(ec.generate_private_key(curve))
		if kind.startswith("rsa"):
			return cls(rsa.generate_private_key(65537, int(kind[3:])))
		if kind == "ed25519":
			return cls(ed25519.Ed25519PrivateKey.generate())
		raise ValueError(kind)

	@classmethod
	def from_pem(cls, path):
		with open(path, "rb") as f:
			return cls(serialization.load_pem_private_key(f.read(),
			    None))

	@classmethod
	def from_jwk_file(cls, path):
		"""Loads a private JWK as certbot stores its account key."""
		import josepy
		with open(path) as f:
			jwk = josepy.JWK.json_loads(f.read())
		return cls(jwk.key._wrapped if hasattr(jwk.key, "_wrapped")
		    else jwk.key)

	def pem(self):
		return self.priv.private_bytes(serialization.Encoding.PEM,
		    serialization.PrivateFormat.PKCS8,
		    serialization.NoEncryption())

	def public_der(self):
		return self.priv.public_key().public_bytes(
		    serialization.Encoding.DER,
		    serialization.PublicFormat.SubjectPublicKeyInfo)

	def jwk(self):
		pub = self.priv.public_key()
		if self.alg.startswith("ES"):
			n = pub.public_numbers()
			return {"kty": "EC", "crv": {32: "P-256", 48: "P-384",
			    66: "P-521"}[self.size], "x": _int_b64u(n.x, self.size),
			    "y": _int_b64u(n.y, self.size)}
		if self.alg == "RS256":
			n = pub.public_numbers()
			return {"kty": "RSA", "n": _int_b64u(n.n),
			    "e": _int_b64u(n.e)}
		raw = pub.public_bytes(serialization.Encoding.Raw,
		    serialization.PublicFormat.Raw)
		return {"kty": "OKP", "crv": "Ed25519", "x": b64u(raw)}

	def thumbprint(self):
		"""RFC 7638 JWK thumbprint, base64url."""
		j = self.jwk()
		req = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"),
		    "OKP": ("crv", "kty", "x")}[j["kty"]]
		canon = json.dumps({k: j[k] for k in req}, sort_keys=True,
		    separators=(",", ":"))
		return b64u(hashlib.sha256(canon.encode()).digest())

	def sign(self, data):
		if self.alg.startswith("ES"):
			der = self.priv.sign(data, ec.ECDSA(self.hash))
			r, s = decode_dss_signature(der)
			return r.to_bytes(self.size, "big") + \
			    s.to_bytes(self.size, "big")
		if self.alg == "RS256":
			return self.priv.sign(data, padding.PKCS1v15(),
			    hashes.SHA256())
		return self.priv.sign(data)


def jws(key, payload, url, nonce=None, kid=None, alg=None, protected=None,
    sign_key=None):
	"""A flattened JWS. PAYLOAD: dict/list (JSON), bytes/str (as is) or
	None (POST-as-GET, empty payload). With KID the header carries "kid",
	otherwise "jwk". PROTECTED overrides header fields (None deletes).
	SIGN_KEY signs instead of KEY (for bad-signature tests)."""
	hdr = {"alg": alg if alg is not None else key.alg, "url": url}
	if nonce is not None:
		hdr["nonce"] = nonce
	if kid is not None:
		hdr["kid"] = kid
	else:
		hdr["jwk"] = key.jwk()
	for k, v in (protected or {}).items():
		if v is None:
			hdr.pop(k, None)
		else:
			hdr[k] = v
	if payload is None:
		p64 = ""
	elif isinstance(payload, (dict, list)):
		p64 = b64u(json.dumps(payload))
	else:
		p64 = b64u(payload)
	h64 = b64u(json.dumps(hdr))
	sig = (sign_key or key).sign(("%s.%s" % (h64, p64)).encode())
	return {"protected": h64, "payload": p64, "signature": b64u(sig)}


def key_authorization(token, key):
	return "%s.%s" % (token, key.thumbprint())


def http01_of(authz):
	"""The one http-01 challenge of the authorization object AUTHZ."""
	ch = [c for c in authz["challenges"] if c["type"] == "http-01"]
	assert len(ch) == 1, authz
	return ch[0]


# ---- CSRs ----

def make_csr(key, names, cn=True):
	"""A CSR (DER) for NAMES signed by KEY (a Key); CN = the first name."""
	b = x509.CertificateSigningRequestBuilder()
	if cn and names:
		b = b.subject_name(x509.Name([x509.NameAttribute(
		    NameOID.COMMON_NAME, names[0])]))
	else:
		b = b.subject_name(x509.Name([]))
	if names:
		b = b.add_extension(x509.SubjectAlternativeName(
		    [x509.DNSName(n) for n in names]), critical=False)
	algo = None if key.alg == "EdDSA" else hashes.SHA256()
	csr = b.sign(key.priv, algo)
	return csr.public_bytes(serialization.Encoding.DER)


# ---- the raw ACME client ----

def assert_problem(r, type_, status=None):
	"""R is an RFC 7807 problem of TYPE (short name, full URN, or a tuple
	of them) with STATUS (int or tuple), served with a nonce."""
	types = type_ if isinstance(type_, tuple) else (type_,)
	types = tuple(t if ":" in t else ERR + t for t in types if t)
	ct = r.headers.get("Content-Type", "")
	assert ct.split(";")[0].strip() == "application/problem+json", \
	    "not a problem document: %d %s %r" % (r.status_code, ct,
	    r.text[:500])
	doc = r.json()
	assert not types or doc.get("type") in types, "problem type %r (want %s): %r" % (
	    doc.get("type"), " or ".join(types), doc)
	if status is not None:
		statuses = status if isinstance(status, tuple) else (status,)
		assert r.status_code in statuses, "status %d (want %s): %r" % (
		    r.status_code, statuses, doc)
	if "status" in doc:
		assert doc["status"] == r.status_code, doc
	assert isinstance(doc.get("detail"), str) and doc["detail"], \
	    "problem without detail: %r" % doc
	assert r.headers.get("Replay-Nonce"), "problem without Replay-Nonce"
	return doc


def link_rel(r, rel):
	"""The URLs of the Link headers with rel=REL."""
	out = []
	raw = getattr(r.raw, "headers", None)
	values = raw.getlist("Link") if hasattr(raw, "getlist") else \
	    [r.headers.get("Link", "")]
	for v in values:
		for part in v.split(","):
			m = re.match(r'\s*<([^>]*)>\s*;(.*)', part)
			if m and re.search(r'rel="?%s"?(;|$|\s)' % re.escape(rel),
			    m.group(2).strip() + ";"):
				out.append(m.group(1))
	return out


class Acme:
	"""A deliberately simple ACME client for protocol tests. Every
	request asserts a Replay-Nonce came back and remembers it."""

	def __init__(self, directory_url, root, key=None):
		self.s = requests.Session()
		# Not trust_env: REQUESTS_CA_BUNDLE in the environment would
		# override verify, and no proxy may be used.
		self.s.trust_env = False
		self.s.verify = root
		self.dir_url = directory_url
		r = self.s.get(directory_url, timeout=15)
		assert r.status_code == 200, r.text
		self.dir = r.json()
		self.nonce = None
		self.key = key or Key.generate("ec256")
		self.kid = None

	def new_nonce(self):
		r = self.s.head(self.dir["newNonce"], timeout=15)
		assert r.status_code == 200, r.status_code
		self.nonce = r.headers["Replay-Nonce"]
		return self.nonce

	def take_nonce(self):
		if self.nonce is None:
			self.new_nonce()
		n, self.nonce = self.nonce, None
		return n

	def post_body(self, url, body, content_type="application/jose+json"):
		"""POSTs BODY (dict or bytes) as is."""
		data = body if isinstance(body, (bytes, str)) else \
		    json.dumps(body)
		r = self.s.post(url, data=data, headers={
		    "Content-Type": content_type}, timeout=30)
		nonce = r.headers.get("Replay-Nonce")
		assert nonce, "no Replay-Nonce on %d answer to POST %s: %r" % (
		    r.status_code, url, r.text[:300])
		self.nonce = nonce
		return r

	def post(self, url, payload, key=None, kid="default", use_jwk=False,
	    nonce=None, **kw):
		"""A signed POST; PAYLOAD None is POST-as-GET. By default signs
		with the account key and kid (jwk before an account exists)."""
		key = key or self.key
		if kid == "default":
			kid = None if use_jwk else self.kid
		if nonce is None:
			nonce = self.take_nonce()
		return self.post_body(url, jws(key, payload, url, nonce=nonce,
		    kid=kid, **kw))

	def get(self, url, **kw):
		return self.post(url, None, **kw)

	def new_account(self, contact=None, key=None, tos=True, only=False,
	    expect=(200, 201)):
		payload = {}
		if tos:
			payload["termsOfServiceAgreed"] = True
		if contact is not None:
			payload["contact"] = contact
		if only:
			payload["onlyReturnExisting"] = True
		r = self.post(self.dir["newAccount"], payload, key=key,
		    kid=None)
		if expect and r.status_code in expect and key is None:
			self.kid = r.headers["Location"]
		return r

	def register(self, contact=None):
		r = self.new_account(contact)
		assert r.status_code == 201, (r.status_code, r.text)
		return r

	def new_order(self, names, **fields):
		"""newOrder for the DNS NAMES; FIELDS (notBefore=..., ...) are
		added to the payload."""
		ids = [{"type": "dns", "value": n} for n in names]
		return self.post(self.dir["newOrder"], dict(fields,
		    identifiers=ids))

	def poll(self, url, done=("valid", "invalid"), timeout=30,
	    want_retry_after=None):
		"""POST-as-GET URL until its status is in DONE; honours
		Retry-After. Returns the last response."""
		deadline = time.monotonic() + timeout
		while True:
			r = self.get(url)
			assert r.status_code == 200, (r.status_code, r.text)
			st = r.json()["status"]
			if st in done:
				return r
			ra = r.headers.get("Retry-After")
			if want_retry_after is not None:
				assert ra is not None, \
				    "%s status %s without Retry-After" % (url, st)
				assert int(ra) <= want_retry_after, ra
			if time.monotonic() > deadline:
				raise AssertionError("%s still %s after %d s: %s" % (
				    url, st, timeout, r.text))
			wait = 1.0
			if ra is not None and ra.isdigit():
				wait = min(float(ra), 2.0)
			time.sleep(max(wait, 0.2))


# ---- HTTP-01 responder ----

class Http01Server:
	"""Serves /.well-known/acme-challenge/TOKEN from a dict, on
	127.0.0.1:PORT, and records each request (path, Host)."""

	def __init__(self, port):
		self.port = port
		self.tokens = {}
		self.requests = []
		outer = self

		class Handler(http.server.BaseHTTPRequestHandler):
			def do_GET(self):
				outer.requests.append((self.path,
				    self.headers.get("Host")))
				pfx = "/.well-known/acme-challenge/"
				tok = self.path[len(pfx):] if \
				    self.path.startswith(pfx) else None
				body = outer.tokens.get(tok)
				if body is None:
					self.send_response(404)
					self.send_header("Content-Length", "0")
					self.end_headers()
					return
				body = body.encode()
				self.send_response(200)
				self.send_header("Content-Type", "text/plain")
				self.send_header("Content-Length", str(len(body)))
				self.end_headers()
				self.wfile.write(body)

			def log_message(self, *a):
				pass

		self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port),
		    Handler)
		self.httpd.daemon_threads = True
		self.thread = threading.Thread(target=self.httpd.serve_forever,
		    daemon=True)
		self.thread.start()

	def close(self):
		self.httpd.shutdown()
		self.httpd.server_close()


class Webroot:
	"""Stands in for Http01Server.tokens: the token files in FOLDER, read
	when the validator asks."""

	def __init__(self, folder):
		self.folder = folder

	def get(self, token):
		if not token or "/" in token or token.startswith("."):
			return None
		try:
			with open(os.path.join(self.folder, token)) as f:
				return f.read()
		except OSError:
			return None
