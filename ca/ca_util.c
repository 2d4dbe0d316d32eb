/* SPDX-License-Identifier: ISC */
/* CA helpers: OpenSSL error logging, PEM conversions, key generation, and
 * the state directory's files (atomic writes, locks, modes). */
#include "ca_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "cb_log.h"

struct ca_errbuf {
	char buf[1024];
	size_t off;
};

static int
ca_err_collect(const char *str, size_t len, void *arg)
{
	struct ca_errbuf *e = arg;
	size_t room;

	while (len > 0 && (str[len - 1] == '\n' || str[len - 1] == '\r'))
		len--;
	if (e->off > 0 && e->off + 2 < sizeof(e->buf)) {
		memcpy(e->buf + e->off, "; ", 2);
		e->off += 2;
	}
	room = sizeof(e->buf) - 1 - e->off;
	if (len > room)
		len = room;
	memcpy(e->buf + e->off, str, len);
	e->off += len;
	e->buf[e->off] = '\0';
	return 1;
}

void
ca_log_ssl(int level, const char *fmt, ...)
{
	struct ca_errbuf e;
	char msg[512];
	va_list ap;

	e.off = 0;
	e.buf[0] = '\0';
	/* Drains the queue even when the level is filtered out, so a stale
	 * error never shows up under a later, unrelated message. */
	ERR_print_errors_cb(ca_err_collect, &e);
	if (level > cb_log_threshold)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cb_log_write(
	    level, "ca: %s: %s", msg, e.off > 0 ? e.buf : "(no OpenSSL error)");
}

char *
ca_path_join(const char *dir, const char *name)
{
	return cb_asprintf("%s/%s", dir, name);
}

static int
ca_mkdir_one(const char *path, mode_t mode)
{
	struct stat st;

	if (mkdir(path, mode) == 0)
		return 0;
	if (errno != EEXIST) {
		cb_log(LOG_ERR, "ca: mkdir %s: %s", path, strerror(errno));
		return -1;
	}
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		cb_log(LOG_ERR, "ca: %s exists and is not a directory", path);
		return -1;
	}
	return 0;
}

int
ca_mkdir_p(const char *path, mode_t mode)
{
	char *copy = NULL;
	int rc = -1;

	if (path == NULL || path[0] == '\0') {
		cb_log(LOG_ERR, "ca: empty directory path");
		goto out;
	}
	copy = cb_strdup(path);
	for (char *p = copy + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (ca_mkdir_one(copy, 0755) != 0)
			goto out;
		*p = '/';
	}
	if (ca_mkdir_one(path, mode) != 0)
		goto out;
	rc = 0;
out:
	free(copy);
	return rc;
}

int
ca_lock_dir(const char *dir)
{
	char *path = ca_path_join(dir, ".lock");
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		cb_log(LOG_ERR, "ca: open %s: %s", path, strerror(errno));
		goto out;
	}
	while (flock(fd, LOCK_EX) != 0) {
		if (errno == EINTR)
			continue;
		cb_log(LOG_ERR, "ca: flock %s: %s", path, strerror(errno));
		close(fd);
		fd = -1;
		break;
	}
out:
	free(path);
	return fd;
}

bool
ca_file_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static int
ca_read_all(int fd, char *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = read(fd, buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

char *
ca_file_read(const char *path, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cb_log(LOG_ERR, "ca: open %s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > CA_MAX_FILE_BYTES) {
		cb_log(LOG_ERR,
		    "ca: %s: not a regular file of at most %d bytes", path,
		    CA_MAX_FILE_BYTES);
		goto out;
	}
	buf = cb_malloc((size_t)st.st_size + 1);
	if (ca_read_all(fd, buf, (size_t)st.st_size) != 0) {
		cb_log(LOG_ERR, "ca: read %s failed", path);
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[st.st_size] = '\0';
	if (len != NULL)
		*len = (size_t)st.st_size;
out:
	if (fd >= 0)
		close(fd);
	return buf;
}

static int
ca_write_all(int fd, const char *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = write(fd, buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* fsync the directory holding PATH so the rename survives a crash. */
static void
ca_sync_parent(const char *path)
{
	char *dir = cb_strdup(path);
	char *slash = strrchr(dir, '/');
	int fd;

	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	else
		strcpy(dir, ".");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(dir);
}

int
ca_file_write(const char *path, const char *buf, size_t len, mode_t mode)
{
	char *tmp = cb_asprintf("%s.tmp.%ld", path, (long)getpid());
	int fd, rc = -1;

	fd = open(
	    tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0) {
		cb_log(LOG_ERR, "ca: create %s: %s", tmp, strerror(errno));
		goto out;
	}
	/* The umask must not widen nor narrow what we were asked for. */
	if (fchmod(fd, mode) != 0 || ca_write_all(fd, buf, len) != 0 ||
	    fsync(fd) != 0) {
		cb_log(LOG_ERR, "ca: write %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		cb_log(LOG_ERR, "ca: close %s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		cb_log(LOG_ERR, "ca: rename %s: %s", path, strerror(errno));
		goto out;
	}
	ca_sync_parent(path);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		(void)unlink(tmp);
	free(tmp);
	return rc;
}

void
ca_secret_free(char *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

/* Copies a memory BIO's contents into a NUL-terminated string. */
static char *
ca_bio_string(BIO *b)
{
	char *data = NULL;
	long n;

	n = BIO_get_mem_data(b, &data);
	if (n < 0 || data == NULL)
		return NULL;
	return cb_strndup(data, (size_t)n);
}

char *
ca_cert_to_pem(X509 *x)
{
	BIO *b = NULL;
	char *pem = NULL;

	b = BIO_new(BIO_s_mem());
	if (b == NULL || PEM_write_bio_X509(b, x) != 1) {
		ca_log_ssl(LOG_ERR, "PEM-encoding a certificate");
		goto out;
	}
	pem = ca_bio_string(b);
out:
	BIO_free(b);
	return pem;
}

char *
ca_key_to_pem(EVP_PKEY *k)
{
	BIO *b = NULL;
	char *pem = NULL;

	/* A memory BIO clears its buffer when freed. */
	b = BIO_new(BIO_s_mem());
	if (b == NULL ||
	    PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) != 1) {
		ca_log_ssl(LOG_ERR, "PEM-encoding a private key");
		goto out;
	}
	pem = ca_bio_string(b);
out:
	BIO_free(b);
	return pem;
}

/* Refuses encrypted PEM instead of prompting on the terminal. */
static int
ca_no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return -1;
}

X509 *
ca_cert_from_pem(const char *pem, size_t len, const char *what)
{
	BIO *b = NULL;
	X509 *x = NULL;

	if (len > CA_MAX_FILE_BYTES) {
		cb_log(LOG_ERR, "ca: %s: too large", what);
		goto out;
	}
	ERR_clear_error();
	b = BIO_new_mem_buf(pem, (int)len);
	if (b != NULL)
		x = PEM_read_bio_X509(b, NULL, ca_no_passphrase, NULL);
	if (x == NULL)
		ca_log_ssl(LOG_ERR, "%s: no PEM certificate", what);
out:
	BIO_free(b);
	return x;
}

EVP_PKEY *
ca_key_from_pem(const char *pem, size_t len, const char *what)
{
	BIO *b = NULL;
	EVP_PKEY *k = NULL;

	if (len > CA_MAX_FILE_BYTES) {
		cb_log(LOG_ERR, "ca: %s: too large", what);
		goto out;
	}
	ERR_clear_error();
	b = BIO_new_mem_buf(pem, (int)len);
	if (b != NULL)
		k = PEM_read_bio_PrivateKey(b, NULL, ca_no_passphrase, NULL);
	if (k == NULL)
		ca_log_ssl(LOG_ERR, "%s: no unencrypted PEM private key", what);
out:
	BIO_free(b);
	return k;
}

X509 *
ca_cert_load(const char *path)
{
	char *pem = NULL;
	size_t len = 0;
	X509 *x = NULL;

	pem = ca_file_read(path, &len);
	if (pem != NULL)
		x = ca_cert_from_pem(pem, len, path);
	free(pem);
	return x;
}

EVP_PKEY *
ca_key_load(const char *path)
{
	char *pem = NULL;
	size_t len = 0;
	EVP_PKEY *k = NULL;

	pem = ca_file_read(path, &len);
	if (pem != NULL)
		k = ca_key_from_pem(pem, len, path);
	ca_secret_free(pem);
	return k;
}

EVP_PKEY *
ca_key_new_ec(const char *curve)
{
	EVP_PKEY *k;

	ERR_clear_error();
	k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
	if (k == NULL)
		ca_log_ssl(LOG_ERR, "generating an EC %s key", curve);
	return k;
}

EVP_PKEY *
ca_key_new_rsa(size_t bits)
{
	EVP_PKEY *k;

	ERR_clear_error();
	k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", bits);
	if (k == NULL)
		ca_log_ssl(LOG_ERR, "generating an RSA %zu key", bits);
	return k;
}

int
ca_key_digest(EVP_PKEY *k, const EVP_MD **md)
{
	int bits = EVP_PKEY_get_bits(k);

	*md = NULL;
	if (EVP_PKEY_is_a(k, "RSA")) {
		*md = EVP_sha256();
		return 0;
	}
	if (EVP_PKEY_is_a(k, "ED25519") || EVP_PKEY_is_a(k, "ED448"))
		return 0;
	if (!EVP_PKEY_is_a(k, "EC"))
		return -1;
	/* Match the digest to the curve's strength (CA/B BR 7.1.3.2.2). */
	if (bits <= 256)
		*md = EVP_sha256();
	else if (bits <= 384)
		*md = EVP_sha384();
	else
		*md = EVP_sha512();
	return 0;
}

bool
ca_name_is_ip(const char *name, unsigned char *out, size_t *outlen)
{
	if (inet_pton(AF_INET, name, out) == 1) {
		*outlen = 4;
		return true;
	}
	if (inet_pton(AF_INET6, name, out) == 1) {
		*outlen = 16;
		return true;
	}
	return false;
}
