/* SPDX-License-Identifier: ISC */
/* Tests for ca/ca_util.c: files, locks, PEM helpers, digests, errors. */
#include "ca_test.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>

#include <openssl/bn.h>
#include <openssl/err.h>

static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
test_file_write_read(void **state)
{
	char *dir = ca_test_tmpdir();
	char *path = ca_path_join(dir, "f");
	mode_t old = umask(0);
	size_t len = 0;
	char *buf;

	(void)state;
	assert_int_equal(ca_file_write(path, "hello\n", 6, 0600), 0);
	assert_int_equal(ca_test_mode(path), 0600);
	/* Replacing keeps the requested mode whatever the umask. */
	umask(077);
	assert_int_equal(ca_file_write(path, "bye", 3, 0644), 0);
	assert_int_equal(ca_test_mode(path), 0644);
	umask(old);
	buf = ca_file_read(path, &len);
	assert_non_null(buf);
	assert_int_equal(len, 3);
	assert_string_equal(buf, "bye");
	free(buf);
	/* No temporary file is left behind. */
	assert_int_equal(count_entries(dir), 1);
	assert_true(ca_file_exists(path));
	assert_false(ca_file_exists("/nonexistent/cobble"));
	assert_null(ca_file_read("/nonexistent/cobble", NULL));
	assert_null(ca_file_read(dir, NULL));
	assert_int_equal(ca_file_write("/nonexistent/dir/f", "x", 1, 0600), -1);
	ca_test_rmrf(dir);
	free(path);
	free(dir);
}

static void
test_file_read_limit(void **state)
{
	char *dir = ca_test_tmpdir();
	char *path = ca_path_join(dir, "big");
	char *big = cb_calloc(1, CA_MAX_FILE_BYTES + 1);

	(void)state;
	assert_int_equal(
	    ca_file_write(path, big, CA_MAX_FILE_BYTES + 1, 0600), 0);
	assert_null(ca_file_read(path, NULL));
	ca_test_rmrf(dir);
	free(big);
	free(path);
	free(dir);
}

static void
test_mkdir_p(void **state)
{
	char *dir = ca_test_tmpdir();
	char *deep = cb_asprintf("%s/x/y/z", dir);
	char *file = cb_asprintf("%s/plain", dir);
	char *under = cb_asprintf("%s/plain/sub", dir);

	(void)state;
	assert_int_equal(ca_mkdir_p(deep, 0700), 0);
	assert_int_equal(ca_test_mode(deep), 0700);
	assert_int_equal(ca_mkdir_p(deep, 0700), 0);
	assert_int_equal(ca_file_write(file, "x", 1, 0600), 0);
	assert_int_equal(ca_mkdir_p(file, 0700), -1);
	assert_int_equal(ca_mkdir_p(under, 0700), -1);
	assert_int_equal(ca_mkdir_p("", 0700), -1);
	ca_test_rmrf(dir);
	free(under);
	free(file);
	free(deep);
	free(dir);
}

static void
test_lock_dir(void **state)
{
	char *dir = ca_test_tmpdir();
	char *lock_path = ca_path_join(dir, ".lock");
	int fd, other;

	(void)state;
	fd = ca_lock_dir(dir);
	assert_true(fd >= 0);
	other = open(lock_path, O_RDWR);
	assert_true(other >= 0);
	assert_int_equal(flock(other, LOCK_EX | LOCK_NB), -1);
	close(fd);
	assert_int_equal(flock(other, LOCK_EX | LOCK_NB), 0);
	close(other);
	assert_int_equal(ca_lock_dir("/nonexistent/cobble"), -1);
	ca_test_rmrf(dir);
	free(lock_path);
	free(dir);
}

static void
test_pem_roundtrip(void **state)
{
	EVP_PKEY *k = ca_test_key("EC"), *back;
	char *pem = ca_key_to_pem(k);

	(void)state;
	assert_non_null(pem);
	assert_non_null(strstr(pem, "-----BEGIN PRIVATE KEY-----"));
	back = ca_key_from_pem(pem, strlen(pem), "test");
	assert_non_null(back);
	assert_int_equal(EVP_PKEY_eq(k, back), 1);
	assert_null(ca_cert_from_pem(pem, strlen(pem), "test"));
	assert_null(ca_key_from_pem("junk", 4, "test"));
	assert_null(ca_key_from_pem(pem, CA_MAX_FILE_BYTES + 1, "test"));
	EVP_PKEY_free(back);
	ca_secret_free(pem);
	EVP_PKEY_free(k);
}

/* An encrypted key fails instead of prompting on the terminal. */
static void
test_encrypted_key_refused(void **state)
{
	EVP_PKEY *k = ca_test_key("EC");
	BIO *b = BIO_new(BIO_s_mem());
	char *data = NULL;
	long n;

	(void)state;
	assert_non_null(b);
	assert_int_equal(PEM_write_bio_PrivateKey(b, k, EVP_aes_128_cbc(),
	                     (unsigned char *)"secret", 6, NULL, NULL),
	    1);
	n = BIO_get_mem_data(b, &data);
	assert_true(n > 0);
	assert_null(ca_key_from_pem(data, (size_t)n, "encrypted"));
	BIO_free(b);
	EVP_PKEY_free(k);
}

static void
test_key_digest(void **state)
{
	const struct {
		const char *type;
		const EVP_MD *md;
	} cases[] = {
	    {"EC", EVP_sha256()},
	    {"P-384", EVP_sha384()},
	    {"RSA", EVP_sha256()},
	    {"ED25519", NULL},
	};
	const EVP_MD *md;
	EVP_PKEY *k;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		k = ca_test_key(cases[i].type);
		assert_int_equal(ca_key_digest(k, &md), 0);
		assert_ptr_equal(md, cases[i].md);
		EVP_PKEY_free(k);
	}
	k = ca_test_key("X25519");
	assert_int_equal(ca_key_digest(k, &md), -1);
	EVP_PKEY_free(k);
}

static void
test_name_is_ip(void **state)
{
	unsigned char buf[16];
	size_t len = 0;

	(void)state;
	assert_true(ca_name_is_ip("127.0.0.1", buf, &len));
	assert_int_equal(len, 4);
	assert_true(ca_name_is_ip("::1", buf, &len));
	assert_int_equal(len, 16);
	assert_false(ca_name_is_ip("localhost", buf, &len));
	assert_false(ca_name_is_ip("1.2.3", buf, &len));
	assert_false(ca_name_is_ip("", buf, &len));
}

static void
test_serial(void **state)
{
	char hex[CA_SERIAL_LEN], prev[CA_SERIAL_LEN] = "";
	ASN1_INTEGER *s = NULL;
	BIGNUM *bn;

	(void)state;
	for (int i = 0; i < 200; i++) {
		assert_int_equal(ca_serial_random(&s), 0);
		bn = ASN1_INTEGER_to_BN(s, NULL);
		assert_non_null(bn);
		assert_false(BN_is_negative(bn));
		assert_int_equal(BN_num_bytes(bn), CA_SERIAL_BYTES);
		assert_int_equal(ca_serial_format(s, hex), 0);
		assert_int_equal(strlen(hex), 32);
		assert_true(hex[0] >= '0' && hex[0] <= '7');
		assert_string_not_equal(hex, prev);
		strcpy(prev, hex);
		BN_free(bn);
		ASN1_INTEGER_free(s);
	}
}

static void
test_serial_format(void **state)
{
	unsigned char big[21];
	char hex[CA_SERIAL_LEN];
	ASN1_INTEGER *s = ASN1_INTEGER_new();
	BIGNUM *bn;

	(void)state;
	assert_non_null(s);
	assert_int_equal(ASN1_INTEGER_set(s, 0), 1);
	assert_int_equal(ca_serial_format(s, hex), 0);
	assert_string_equal(hex, "00");
	assert_int_equal(ASN1_INTEGER_set(s, 0x1abc), 1);
	assert_int_equal(ca_serial_format(s, hex), 0);
	assert_string_equal(hex, "1abc");
	assert_int_equal(ASN1_INTEGER_set(s, -5), 1);
	assert_int_equal(ca_serial_format(s, hex), -1);
	/* 20 bytes fit, 21 do not (RFC 5280 4.1.2.2). */
	memset(big, 0x7f, sizeof(big));
	bn = BN_bin2bn(big, 20, NULL);
	assert_non_null(BN_to_ASN1_INTEGER(bn, s));
	assert_int_equal(ca_serial_format(s, hex), 0);
	assert_int_equal(strlen(hex), 40);
	BN_free(bn);
	bn = BN_bin2bn(big, 21, NULL);
	assert_non_null(BN_to_ASN1_INTEGER(bn, s));
	assert_int_equal(ca_serial_format(s, hex), -1);
	BN_free(bn);
	ASN1_INTEGER_free(s);
}

/* Logging empties the error queue even when the line is filtered out. */
static void
test_log_ssl_drains(void **state)
{
	(void)state;
	ERR_raise(ERR_LIB_X509, X509_R_CERT_ALREADY_IN_HASH_TABLE);
	ERR_raise(ERR_LIB_PEM, PEM_R_NO_START_LINE);
	assert_true(ERR_peek_error() != 0);
	ca_log_ssl(LOG_ERR, "test %d", 1);
	assert_int_equal(ERR_peek_error(), 0);
	cb_log_set_level(LOG_DEBUG);
	ERR_raise(ERR_LIB_PEM, PEM_R_NO_START_LINE);
	ca_log_ssl(LOG_DEBUG, "visible");
	assert_int_equal(ERR_peek_error(), 0);
	cb_log_set_level(LOG_CRIT);
}

static void
test_secret_free_null(void **state)
{
	(void)state;
	ca_secret_free(NULL);
	ca_secret_free(cb_strdup("secret"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_file_write_read),
	    cmocka_unit_test(test_file_read_limit),
	    cmocka_unit_test(test_mkdir_p),
	    cmocka_unit_test(test_lock_dir),
	    cmocka_unit_test(test_pem_roundtrip),
	    cmocka_unit_test(test_encrypted_key_refused),
	    cmocka_unit_test(test_key_digest),
	    cmocka_unit_test(test_name_is_ip),
	    cmocka_unit_test(test_serial),
	    cmocka_unit_test(test_serial_format),
	    cmocka_unit_test(test_log_ssl_drains),
	    cmocka_unit_test(test_secret_free_null),
	};

	cb_log_set_level(LOG_CRIT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
