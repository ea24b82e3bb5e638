/*
 * io.c — saving and loading models: a versioned, zlib-compressed file with a checksum.
 *
 * Layout (all little endian):
 *   header, 32 bytes: "LXIF" | u32 version (2) | u32 flags | u32 crc32 |
 *                     u64 payload_len (uncompressed) | u64 compressed_len
 *   compressed payload (zlib, level 6)
 * The CRC-32 covers the header (with its crc field zeroed) and the compressed bytes, so any
 * flipped bit is caught before zlib sees the data. The payload holds the parameters, the
 * scaler, the confidence table and every tree's preorder nodes; loading re-checks every
 * count, index, link and value and rebuilds the model through the same compile path as
 * training, so a loaded model scores exactly like the saved one. Checks run in this order:
 * too short -> TRUNCATED, magic -> MAGIC, version -> VERSION, short payload -> TRUNCATED,
 * trailing bytes -> CORRUPT, crc -> CHECKSUM, inflate or content -> CORRUPT.
 * Versions: 2 adds flag bit 0 = packed layout (thresholds carry the feature index in their
 * low mantissa bits; loading checks that every split's bits agree with its feature). Version
 * 1 files (written before the packed layout existed, flags 0) are still read, as exact-layout
 * models that score exactly as before; any other version is IFOREST_E_VERSION.
 */
#include "iforest_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define MAGIC "LXIF"
#define FORMAT_VERSION 2u
#define FORMAT_V1 1u
#define FLAG_PACKED 1u
#define HEADER_LEN 32
#define MAX_PAYLOAD (1ull << 31)
#define MAX_INFLATE_RATIO 1032ull /* zlib's deflate bound: at most 1032 output bytes per input byte */

/* ---- little-endian byte buffer ---- */
typedef struct { unsigned char *p; size_t len, cap; int oom; } wbuf;

static void put(wbuf *b, const void *src, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n > b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 65536;
		while (nc < b->len + n)
			nc *= 2;
		unsigned char *q = realloc(b->p, nc);
		if (!q) {
			b->oom = 1;
			return;
		}
		b->p = q;
		b->cap = nc;
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

static void put_u64(wbuf *b, uint64_t v)
{
	unsigned char t[8];
	for (int i = 0; i < 8; i++)
		t[i] = (unsigned char)(v >> (8 * i));
	put(b, t, 8);
}
static void put_u32(wbuf *b, uint32_t v) { unsigned char t[4] = {v, v >> 8, v >> 16, v >> 24}; put(b, t, 4); }
static void put_u16(wbuf *b, uint16_t v) { unsigned char t[2] = {v, v >> 8}; put(b, t, 2); }
static void put_f64(wbuf *b, double v) { uint64_t u; memcpy(&u, &v, 8); put_u64(b, u); }
static void put_f32(wbuf *b, float v) { uint32_t u; memcpy(&u, &v, 4); put_u32(b, u); }

typedef struct { const unsigned char *p; size_t len, pos; int bad; } rbuf;

static const unsigned char *take(rbuf *b, size_t n)
{
	if (b->bad || b->len - b->pos < n) {
		b->bad = 1;
		return NULL;
	}
	const unsigned char *q = b->p + b->pos;
	b->pos += n;
	return q;
}
static uint64_t get_u64(rbuf *b)
{
	const unsigned char *q = take(b, 8);
	uint64_t v = 0;
	if (q)
		for (int i = 7; i >= 0; i--)
			v = (v << 8) | q[i];
	return v;
}
static uint32_t get_u32(rbuf *b)
{
	const unsigned char *q = take(b, 4);
	return q ? (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24 : 0;
}
static uint16_t get_u16(rbuf *b)
{
	const unsigned char *q = take(b, 2);
	return q ? (uint16_t)(q[0] | q[1] << 8) : 0;
}
static double get_f64(rbuf *b) { uint64_t u = get_u64(b); double v; memcpy(&v, &u, 8); return v; }
static float get_f32(rbuf *b) { uint32_t u = get_u32(b); float v; memcpy(&v, &u, 4); return v; }

/* ---- payload ---- */
static void write_payload(const iforest_model *m, wbuf *b)
{
	put_u32(b, (uint32_t)m->n_features);
	put_u32(b, (uint32_t)m->n_trees);
	put_u32(b, (uint32_t)m->psi);
	put_u32(b, (uint32_t)m->max_depth);
	put_f64(b, m->offset);
	put_f64(b, m->contamination);
	put_u64(b, m->seed);
	put_u64(b, m->generation);
	for (int f = 0; f < m->n_features; f++)
		put_f64(b, m->mean[f]);
	for (int f = 0; f < m->n_features; f++)
		put_f64(b, m->scale[f]);
	put_u64(b, m->n_conf);
	for (size_t i = 0; i < m->n_conf; i++)
		put_f64(b, m->conf[i]);
	for (int t = 0; t < m->n_trees; t++) {
		size_t n = m->tree_off[t + 1] - m->tree_off[t];
		const if_node *nd = m->nodes + m->tree_off[t];
		put_u32(b, (uint32_t)n);
		for (size_t i = 0; i < n; i++) {
			put_f32(b, nd[i].thr);
			put_u32(b, (uint32_t)nd[i].right);
			put_u16(b, nd[i].feature);
			put_u32(b, (uint32_t)nd[i].n);
		}
	}
}

/* Check one tree's preorder structure: node i's left child is i+1, its right child starts
 * right after the left subtree, depths follow, leaves carry no split, counts add up. */
static int check_tree(if_node *nd, size_t n, int n_features, int max_depth, int psi,
                      uint32_t pack_mask)
{
	struct { size_t node; int depth; } stack[128];
	int sp = 0;
	size_t pos = 0;
	stack[sp++] = (typeof(stack[0])){0, 0};
	while (sp) {
		typeof(stack[0]) fr = stack[--sp];
		if (fr.node != pos || pos >= n || fr.depth > max_depth)
			return -1;
		pos++;
		if_node *x = &nd[fr.node];
		x->depth = (uint16_t)fr.depth;
		if (x->n < 1 || x->n > psi)
			return -1;
		if (x->right == 0) {
			if (x->feature != 0 || x->thr != 0)
				return -1;
			continue;
		}
		if (x->right < 0 || (size_t)x->right <= fr.node + 1 || (size_t)x->right >= n ||
		    x->feature >= n_features || isnan(x->thr) || sp + 2 > 128)
			return -1;
		if (pack_mask != UINT32_MAX &&
		    (!isfinite(x->thr) || (if_f32_bits(x->thr) & pack_mask) != x->feature))
			return -1;   /* packed: the threshold's low bits must spell the feature */
		/* children's counts are range-checked only when popped: add them in 64 bits */
		if ((int64_t)nd[fr.node + 1].n + nd[x->right].n != x->n)
			return -1;
		stack[sp++] = (typeof(stack[0])){(size_t)x->right, fr.depth + 1};
		stack[sp++] = (typeof(stack[0])){fr.node + 1, fr.depth + 1};
	}
	return pos == n ? 0 : -1;
}

static int read_payload(rbuf *b, int packed, iforest_model **out)
{
	uint32_t nf = get_u32(b), nt = get_u32(b), psi = get_u32(b), depth = get_u32(b);
	if (b->bad || nf < 1 || nf > IFOREST_MAX_FEATURES || nt < 1 || nt > IFOREST_MAX_TREES ||
	    psi < 1 || psi > (1u << 24) || depth != (uint32_t)if_depth_for((int)psi))
		return IFOREST_E_CORRUPT;
	double offset = get_f64(b), contamination = get_f64(b);
	uint64_t seed = get_u64(b), generation = get_u64(b);
	double mean[IFOREST_MAX_FEATURES], scale[IFOREST_MAX_FEATURES];
	for (uint32_t f = 0; f < nf; f++)
		mean[f] = get_f64(b);
	for (uint32_t f = 0; f < nf; f++)
		scale[f] = get_f64(b);
	if (b->bad || !isfinite(offset) || !(contamination >= 0 && contamination <= 0.5))
		return IFOREST_E_CORRUPT;
	for (uint32_t f = 0; f < nf; f++)
		if (!isfinite(mean[f]) || !isfinite(scale[f]) || !(scale[f] > 0))
			return IFOREST_E_CORRUPT;
	uint64_t n_conf = get_u64(b);
	if (b->bad || n_conf > (b->len - b->pos) / 8)
		return IFOREST_E_CORRUPT;
	size_t conf_pos = b->pos;
	for (uint64_t i = 0; i < n_conf; i++) {
		double v = get_f64(b);
		if (!isfinite(v) || v < 0)
			return IFOREST_E_CORRUPT;
	}
	/* Count nodes first so the model is allocated once. */
	size_t trees_pos = b->pos, total = 0;
	for (uint32_t t = 0; t < nt; t++) {
		uint32_t n = get_u32(b);
		if (b->bad || n < 1 || n > 2 * psi - 1 || !take(b, (size_t)n * 14))
			return IFOREST_E_CORRUPT;
		total += n;
	}
	if (b->pos != b->len)
		return IFOREST_E_CORRUPT;     /* trailing bytes */

	iforest_model *m = if_model_alloc((int)nf, (int)nt, (int)psi, total, packed);
	if (!m)
		return IFOREST_E_NOMEM;
	memcpy(m->mean, mean, nf * sizeof(double));
	memcpy(m->scale, scale, nf * sizeof(double));
	m->offset = offset;
	m->contamination = contamination;
	m->seed = seed;
	m->generation = generation;
	b->pos = trees_pos;
	size_t off = 0;
	for (uint32_t t = 0; t < nt; t++) {
		uint32_t n = get_u32(b);
		if_node *nd = m->nodes + off;
		for (uint32_t i = 0; i < n; i++) {
			nd[i].thr = get_f32(b);
			nd[i].right = (int32_t)get_u32(b);
			nd[i].feature = get_u16(b);
			nd[i].n = (int32_t)get_u32(b);
		}
		if (check_tree(nd, n, (int)nf, (int)depth, (int)psi, packed ? m->pack_mask : UINT32_MAX)) {
			iforest_model_free(m);
			return IFOREST_E_CORRUPT;
		}
		m->tree_off[t] = off;
		off += n;
		m->tree_off[t + 1] = off;
		if_model_compile_tree(m, (int)t);
	}
	if_model_finish(m);
	if (n_conf) {
		rbuf c = {b->p, b->len, conf_pos, 0};
		double *conf = malloc(n_conf * sizeof(double));
		if (!conf) {
			iforest_model_free(m);
			return IFOREST_E_NOMEM;
		}
		for (uint64_t i = 0; i < n_conf; i++) {
			conf[i] = get_f64(&c);
			if (i && conf[i] < conf[i - 1]) {
				free(conf);
				iforest_model_free(m);
				return IFOREST_E_CORRUPT;   /* the table must be sorted */
			}
		}
		m->conf = conf;
		m->n_conf = n_conf;
		m->bytes += n_conf * sizeof(double);
	}
	*out = m;
	return IFOREST_OK;
}

static void put_le32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static void put_le64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static uint32_t le32(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t le64(const unsigned char *p) { uint64_t v = 0; for (int i = 7; i >= 0; i--) v = (v << 8) | p[i]; return v; }

int iforest_save_buffer(const iforest_model *m, void **buf, size_t *len)
{
	if (!m || !buf || !len)
		return IFOREST_E_INVAL;
	wbuf raw = {0};
	write_payload(m, &raw);
	if (raw.oom) {
		free(raw.p);
		return IFOREST_E_NOMEM;
	}
	uLongf clen = compressBound(raw.len);
	unsigned char *out = malloc(HEADER_LEN + clen);
	if (!out) {
		free(raw.p);
		return IFOREST_E_NOMEM;
	}
	int zrc = compress2(out + HEADER_LEN, &clen, raw.p, raw.len, 6);
	free(raw.p);
	if (zrc != Z_OK) {
		free(out);
		return zrc == Z_MEM_ERROR ? IFOREST_E_NOMEM : IFOREST_E_INVAL;
	}
	memcpy(out, MAGIC, 4);
	put_le32(out + 4, FORMAT_VERSION);
	put_le32(out + 8, m->packed ? FLAG_PACKED : 0);
	put_le32(out + 12, 0);
	put_le64(out + 16, raw.len);
	put_le64(out + 24, clen);
	uLong crc = crc32(0L, Z_NULL, 0);
	crc = crc32(crc, out, HEADER_LEN);
	crc = crc32(crc, out + HEADER_LEN, (uInt)clen);
	put_le32(out + 12, (uint32_t)crc);
	*buf = out;
	*len = HEADER_LEN + clen;
	return IFOREST_OK;
}

int iforest_load_buffer(const void *vbuf, size_t len, iforest_model **out)
{
	const unsigned char *b = vbuf;
	if (!b || !out)
		return IFOREST_E_INVAL;
	*out = NULL;
	if (len >= 4 && memcmp(b, MAGIC, 4))
		return IFOREST_E_MAGIC;
	if (len < HEADER_LEN)
		return IFOREST_E_TRUNCATED;
	const uint32_t version = le32(b + 4);
	if (version != FORMAT_VERSION && version != FORMAT_V1)
		return IFOREST_E_VERSION;
	uint64_t raw_len = le64(b + 16), clen = le64(b + 24);
	/* deflate expands at most 1032:1, so a larger raw_len is a lie that would make us
	 * allocate up to 2 GiB for a file of a few bytes */
	if (clen > MAX_PAYLOAD || raw_len > MAX_PAYLOAD || raw_len > clen * MAX_INFLATE_RATIO + 64)
		return IFOREST_E_CORRUPT;
	if (len - HEADER_LEN < clen)
		return IFOREST_E_TRUNCATED;
	if (len - HEADER_LEN > clen)
		return IFOREST_E_CORRUPT;
	unsigned char hdr[HEADER_LEN];
	memcpy(hdr, b, HEADER_LEN);
	put_le32(hdr + 12, 0);
	uLong crc = crc32(0L, Z_NULL, 0);
	crc = crc32(crc, hdr, HEADER_LEN);
	crc = crc32(crc, b + HEADER_LEN, (uInt)clen);
	if ((uint32_t)crc != le32(b + 12))
		return IFOREST_E_CHECKSUM;
	const uint32_t flags = le32(b + 8);
	if (flags & ~(version == FORMAT_V1 ? 0u : FLAG_PACKED))
		return IFOREST_E_CORRUPT;       /* unknown flag bits */
	unsigned char *raw = malloc(raw_len ? raw_len : 1);
	if (!raw)
		return IFOREST_E_NOMEM;
	uLongf got = raw_len;
	int zrc = uncompress(raw, &got, b + HEADER_LEN, clen);
	if (zrc != Z_OK || got != raw_len) {
		free(raw);
		return zrc == Z_MEM_ERROR ? IFOREST_E_NOMEM : IFOREST_E_CORRUPT;
	}
	rbuf r = {raw, raw_len, 0, 0};
	int rc = read_payload(&r, (flags & FLAG_PACKED) != 0, out);
	free(raw);
	return rc;
}

int iforest_save(const iforest_model *m, const char *path)
{
	if (!m || !path)
		return IFOREST_E_INVAL;
	void *buf;
	size_t len;
	int rc = iforest_save_buffer(m, &buf, &len);
	if (rc != IFOREST_OK)
		return rc;
	size_t pl = strlen(path);
	char *tmp = malloc(pl + 5);
	if (!tmp) {
		free(buf);
		return IFOREST_E_NOMEM;
	}
	memcpy(tmp, path, pl);
	memcpy(tmp + pl, ".tmp", 5);
	rc = IFOREST_E_IO;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		size_t done = 0;
		while (done < len) {
			ssize_t w = write(fd, (char *)buf + done, len - done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			done += (size_t)w;
		}
		int ok = done == len && fsync(fd) == 0;
		if (close(fd) == 0 && ok && rename(tmp, path) == 0)
			rc = IFOREST_OK;
		else {
			int e = errno;
			unlink(tmp);
			errno = e;
		}
	}
	free(tmp);
	free(buf);
	return rc;
}

int iforest_load(const char *path, iforest_model **out)
{
	if (!path || !out)
		return IFOREST_E_INVAL;
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return IFOREST_E_IO;
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return IFOREST_E_IO;
	}
	if ((uint64_t)st.st_size > MAX_PAYLOAD + HEADER_LEN) {
		close(fd);
		return IFOREST_E_CORRUPT;
	}
	size_t len = (size_t)st.st_size, done = 0;
	unsigned char *buf = malloc(len ? len : 1);
	if (!buf) {
		close(fd);
		return IFOREST_E_NOMEM;
	}
	while (done < len) {
		ssize_t r = read(fd, buf + done, len - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			close(fd);
			return IFOREST_E_IO;
		}
		if (r == 0)
			break;      /* the file shrank under us: the parser reports truncation */
		done += (size_t)r;
	}
	close(fd);
	int rc = iforest_load_buffer(buf, done, out);
	free(buf);
	return rc;
}
