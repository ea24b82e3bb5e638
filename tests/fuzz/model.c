/*
 * model.c — libFuzzer target for the model-file loader (iforest/io.c).
 *
 * A model file is read at start-up from /var/lib/lxcscale; a truncated, corrupted or
 * crafted file must give an error code, never a crash, a huge allocation or a model that
 * scores differently from the one saved. The CRC-32 in the header would stop almost every
 * mutation before the parser, so the first input byte picks how the rest is used:
 *   0  the bytes are the file, as is (header checks, CRC)
 *   1  the bytes are the file, with the CRC patched to match (header fields, zlib, payload)
 *   2  the bytes are the uncompressed payload; the harness compresses it and writes a valid
 *      header around it (the payload parser and the tree checks, where the bugs would be)
 * The seeds are real saved models (tests/fuzz/corpus/model), one per mode.
 *
 * When a model loads, it is used the way the daemon uses it: info, importances, scoring one
 * sample and a batch with the scalar and (when the CPU has it) the AVX2 kernel, which must
 * agree (within 1e-6: the AVX2 layout stores leaf values as float), explanation, and a save → load → save round trip that must give the same bytes.
 * Mode 0 also goes through iforest_load() from a real file once in a while.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "iforest.h"

#define HEADER_LEN 32

static void put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void patch_crc(unsigned char *f, size_t len)
{
	if (len < HEADER_LEN)
		return;
	uint64_t clen = 0;
	for (int i = 7; i >= 0; i--)
		clen = (clen << 8) | f[24 + i];
	if (clen > len - HEADER_LEN)
		clen = len - HEADER_LEN;
	put_le32(f + 12, 0);
	uLong crc = crc32(0L, Z_NULL, 0);
	crc = crc32(crc, f, HEADER_LEN);
	crc = crc32(crc, f + HEADER_LEN, (uInt)clen);
	put_le32(f + 12, (uint32_t)crc);
}

static unsigned char *wrap_payload(const uint8_t *p, size_t n, size_t *len)
{
	uLongf clen = compressBound(n);
	unsigned char *f = malloc(HEADER_LEN + clen);
	if (!f)
		return NULL;
	if (compress2(f + HEADER_LEN, &clen, p, n, 1) != Z_OK) {
		free(f);
		return NULL;
	}
	memcpy(f, "LXIF", 4);
	put_le32(f + 4, 1);
	put_le32(f + 8, 0);
	put_le32(f + 12, 0);
	put_le64(f + 16, n);
	put_le64(f + 24, clen);
	*len = HEADER_LEN + clen;
	patch_crc(f, *len);
	return f;
}

static void use_model(const iforest_model *m)
{
	iforest_info info;
	iforest_model_info(m, &info);
	if (info.n_features < 1 || info.n_features > IFOREST_MAX_FEATURES)
		abort();
	size_t nf = (size_t)info.n_features;
	double imp[IFOREST_MAX_FEATURES];
	if (iforest_feature_importances(m, imp, nf) != IFOREST_OK)
		abort();

	enum { ROWS = 4 };
	double X[ROWS * IFOREST_MAX_FEATURES];
	for (size_t r = 0; r < ROWS; r++)
		for (size_t f = 0; f < nf; f++)
			X[r * nf + f] = (double)((int)(r * 7 + f * 3) % 11 - 5) * 0.37 * (double)(r + 1);
	iforest_result one, batch[ROWS];
	if (iforest_score(m, X, nf, &one) != IFOREST_OK || iforest_score_batch(m, X, ROWS, nf, batch) != IFOREST_OK)
		abort();
	if (memcmp(&one.score, &batch[0].score, sizeof(double)) != 0 && !(isnan(one.score) && isnan(batch[0].score)))
		abort();
	double s_scalar[ROWS], s_avx2[ROWS];
	if (iforest_score_samples(m, IFOREST_KERNEL_SCALAR, X, ROWS, nf, s_scalar) != IFOREST_OK)
		abort();
	if (iforest_score_samples(m, IFOREST_KERNEL_AVX2, X, ROWS, nf, s_avx2) == IFOREST_OK)
		for (int r = 0; r < ROWS; r++)
			/* the AVX2 layout keeps leaf values as float: ~1e-8 apart is by design, a
			 * different path through any tree is far more than 1e-6 */
			if (fabs(s_scalar[r] - s_avx2[r]) > 1e-6) {
				fprintf(stderr, "kernels disagree on row %d: scalar %.17g avx2 %.17g\n", r,
					s_scalar[r], s_avx2[r]);
				abort();
			}
	iforest_contrib top[8];
	iforest_explain(m, X, nf, top, 8);

	void *b1 = NULL, *b2 = NULL;
	size_t l1 = 0, l2 = 0;
	iforest_model *back = NULL;
	if (iforest_save_buffer(m, &b1, &l1) != IFOREST_OK)
		abort();
	int rc = iforest_load_buffer(b1, l1, &back);
	if (rc != IFOREST_OK) {
		fprintf(stderr, "a saved model does not load back: %s\n", iforest_strerror(rc));
		abort();
	}
	if (iforest_save_buffer(back, &b2, &l2) != IFOREST_OK || l1 != l2 || memcmp(b1, b2, l1) != 0)
		abort();
	iforest_model_free(back);
	free(b1);
	free(b2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > (1u << 20))
		return 0;
	unsigned mode = data[0] % 3;
	data++;
	size--;
	unsigned char *file = NULL;
	size_t len = size;
	if (mode == 2) {
		file = wrap_payload(data, size, &len);
	} else {
		file = malloc(size ? size : 1);
		if (file) {
			memcpy(file, data, size);
			if (mode == 1)
				patch_crc(file, len);
		}
	}
	if (!file)
		return 0;
	iforest_model *m = NULL;
	int rc = iforest_load_buffer(file, len, &m);
	if (rc == IFOREST_OK) {
		if (!m)
			abort();
		use_model(m);
		iforest_model_free(m);
	} else if (m) {
		abort(); /* an error must not hand out a model */
	}
	if (mode == 0 && (size & 63) == 0) {
		/* the file path once in a while: same answer as from memory */
		char path[] = "/tmp/lxcscale-fuzz-model-XXXXXX";
		int fd = mkstemp(path);
		if (fd >= 0) {
			int ok = write(fd, file, len) == (ssize_t)len;
			close(fd);
			iforest_model *mf = NULL;
			int rc2 = ok ? iforest_load(path, &mf) : rc;
			unlink(path);
			if (rc2 != rc)
				abort();
			iforest_model_free(mf);
		}
	}
	free(file);
	return 0;
}
