// Flash attention for bf16 autocast (FlashAttention-2's tiling): out = softmax(scale q k^T, masked) v per (batch, head)
// without materialising the scores; bf16 tensor-core products (mma.m16n8k16, fp32 accumulation), fp32 softmax.
//
// Operands live in global memory, all fp32 or all bf16 (P.bf16: bf16 autocast's activations), with any strides whose
// last one is 1, seen as (B, H, L, E): the packed projection (B, L, 3*H*E) is read in place (q at column 0, k at H*E,
// v at 2*H*E; strides L*3*H*E, E, 3*H*E, 1), and out (B, Lq, H*E) / the packed gradient are written in place. fp32
// tiles are rounded to bf16 while they are staged into shared memory; lse and delta are fp32 either way.
//
//   forward    flash_attn_fwd_e{32,64,128}   grid (ceil(Lq / R), B*H): out, lse = the row log-sum-exp (B*H, Lq)
//   backward   flash_attn_bwd_delta           D = rowsum(dout * out) (B*H, Lq)
//              Lk <= 128: flash_attn_bwd_e*   grid (1, B*H): dk, dv of all keys looping over the queries, and dq of
//                                             each query tile from its dS kept in shared memory
//              longer:    flash_attn_bwd_dkdv_e*  grid (ceil(Lk / R), B*H): dk, dv of R keys, looping over the queries
//                         flash_attn_bwd_dq_e*    grid (ceil(Lq / R), B*H): dq of R queries, looping over the keys
// R = 16 rows per warp x blockDim.x / 32 warps (1 to 8): the launcher gives a sequence of at most 128 one block of
// just enough warps (L = 65: 5 warps, not two blocks of 64 rows of which the second holds one), longer ones 4 warps.
// Tiles of the loops are cut to the 16 rows that hold the last valid one: products over rows past the sequence's end
// are skipped, not computed on zeros.
// The loops copy their next tile (cp.async, bf16 operands 16-byte aligned) while they compute the current one.
// The backward recomputes P from lse and writes every gradient element exactly once: no atomics, the same bits on
// every run.
//
// Masks: a BOOL tensor (true = not allowed) read through broadcast strides (mb, mh, mi, mj), e.g. a key-padding mask
// (B, 1, 1, Lk) has mh = mi = 0. A query with no allowed key gets out 0, lse +inf (so P = 0 in the backward) and no
// gradient. Dropout on P: element (bh, i, j) is kept when word idx % 4 of Philox block offset + shift + idx / 4 (idx =
// (bh*Lq + i)*Lk + j) has (w >> 8) >= ceil(p * 2^24): exactly dropout_f32's draw on the materialised (B*H, Lq, Lk)
// weights, since u = (w >> 8) * 2^-24 >= p. Kept weights are multiplied by dropout_scale = (float)(1 / (1 - p)).
// The forward draws the numbers and writes its keep decisions as bits (P.keep: row (bh, i) has keep_words words,
// bit j % 32 of word j / 32 for key j; 1/32 of the bytes of fp32 weights); the backward kernels read the bits.
#include "common.cuh"
#include "philox.cuh"

#define FA_MAX_THREADS 256  // at most 8 warps; each owns 16 rows of the block's (queries, or keys in dkdv)
#define FA_PAD 8        // bf16 padding per shared row: rows stay 16-byte aligned, ldmatrix reads are conflict-free
#define LOG2E 1.4426950408889634f
#define LN2 0.6931471805599453f

// (b, h, l, d) at p[b * sb + h * sh + l * sl + d]
struct Bhle {
    void* p;  // float* or u16* (bf16), as FlashParams.bf16 says
    i64 sb, sh, sl;
};

// Every field 8 bytes: the Java side passes the struct as a long[] (FlashAttention in CudaBackend.java, same order).
struct FlashParams {
    Bhle q, k, v, o, dout, dq, dk, dv;
    const u8* mask;  // null = no mask
    i64 mb, mh, mi, mj;
    float* lse;    // (B*H, Lq), natural log of sum_j exp(scale q_i k_j); +inf for a row without allowed keys
    float* delta;  // (B*H, Lq)
    i64 B, H, Lq, Lk;
    i64 bh0;  // first batch*head of this launch (grids are split at 65535 in y)
    double scale, dropout_scale;
    i64 keep_threshold;  // ceil(p * 2^24); 0 = no dropout
    u64 seed, offset;
    const i64* offset_shift;  // device word added to offset (non-zero in replays of captured steps)
    u32* keep;       // with dropout: the forward's keep decisions as bits, read by the backward (see flash_fwd)
    i64 keep_words;  // words per row of keep: 2 ceil(Lk / 64)
    i64 vec;   // 1: every pointer 16-byte (bf16: 8-byte) aligned, every row stride a multiple of 4 (4-element loads)
    i64 bf16;  // 1: q, k, v, o, dout, dq, dk, dv are bf16; 0: fp32
    i64 causal;  // 1: query i sees no key j > i either (top-left aligned); tiles wholly above the diagonal are skipped
    i64 async16;  // 1: bf16, every pointer 16-byte aligned, every stride a multiple of 8: tiles are copied with cp.async
    i64 ban_words;  // > 0: a key-padding mask (mi = 0) held as bits in shared memory (ban_bits), this many words, even
};

// ---- tiny PTX helpers (no headers)

__device__ __forceinline__ u32 smem_u32(const void* p) {
    u32 a;
    asm("{ .reg .u64 t; cvta.to.shared.u64 t, %1; cvt.u32.u64 %0, t; }" : "=r"(a) : "l"(p));
    return a;
}

// two floats -> bf16x2, round to nearest even; lo in bits 0-15 (the element with the smaller column)
__device__ __forceinline__ u32 pack_bf16(float lo, float hi) {
    u32 r;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
    return r;
}

// 2^x; 2^-inf = 0
__device__ __forceinline__ float exp2_fast(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

// Four 8x8 bf16 matrices; lane l gives the address of row l % 8 of matrix l / 8 and receives, in r[i], row l / 4,
// columns 2 (l % 4) and 2 (l % 4) + 1 of matrix i (trans: column l / 4, rows 2 (l % 4) and 2 (l % 4) + 1).
__device__ __forceinline__ void ldsm_x4(u32 r[4], u32 addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(addr));
}
__device__ __forceinline__ void ldsm_x4_t(u32 r[4], u32 addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(addr));
}

// c (16x8 f32) += a (16x16 bf16, row) b (16x8 bf16, col). With g = lane / 4, t = lane % 4:
//   a[0] = A[g][2t..2t+1], a[1] = A[g+8][2t..], a[2] = A[g][2t+8..], a[3] = A[g+8][2t+8..]
//   b0 = B[2t..2t+1][g], b1 = B[2t+8..2t+9][g]
//   c[0..1] = C[g][2t..2t+1], c[2..3] = C[g+8][2t..2t+1]
__device__ __forceinline__ void mma_bf16(float c[4], const u32 a[4], u32 b0, u32 b1) {
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Asynchronous copies global -> shared (sm_80+, no registers in between); valid = false writes zeros. A thread's
// copies since its last commit form a group; wait<N> returns when at most N of its groups are still in flight.
__device__ __forceinline__ void cp_async16(u16* dst, const void* src, bool valid) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(smem_u32(dst)), "l"(src), "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void cp_async4(float* dst, const float* src, bool valid) {
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;" ::"r"(smem_u32(dst)), "l"(src), "r"(valid ? 4 : 0));
}
__device__ __forceinline__ void cp_async8(u32* dst, const u32* src, bool valid) {
    asm volatile("cp.async.ca.shared.global [%0], [%1], 8, %2;" ::"r"(smem_u32(dst)), "l"(src), "r"(valid ? 8 : 0));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;" ::: "memory"); }
template <int N>
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;" ::"n"(N) : "memory"); }

// ---- fragments from a shared tile s[rows][LD] (bf16, row-major)

// A operand: rows r0..r0+15, columns c0..c0+15 of s (the m16k16 block as the row-major A of mma).
template <int LD>
__device__ __forceinline__ void frag_a(u32 a[4], const u16* s, int r0, int c0, int lane) {
    ldsm_x4(a, smem_u32(s + (r0 + (lane & 15)) * LD + c0 + (lane >> 4) * 8));
}

// A operand: rows r0..r0+15, columns c0..c0+15 of the transpose of s (s holds A^T: A[r][c] = s[c][r]).
template <int LD>
__device__ __forceinline__ void frag_a_t(u32 a[4], const u16* s, int r0, int c0, int lane) {
    int m = lane >> 3;
    ldsm_x4_t(a, smem_u32(s + (c0 + (lane & 7) + (m >> 1) * 8) * LD + r0 + (m & 1) * 8));
}

// B operands of two n-tiles where B[k][n] = s[n][k] (s holds B transposed: K for q k^T): n = rows r0..r0+15 of s,
// k = columns c0..c0+15. b[0], b[1] = tile n r0..r0+7; b[2], b[3] = tile n r0+8..r0+15.
template <int LD>
__device__ __forceinline__ void frag_b_nk(u32 b[4], const u16* s, int r0, int c0, int lane) {
    int m = lane >> 3;
    ldsm_x4(b, smem_u32(s + (r0 + (lane & 7) + (m >> 1) * 8) * LD + c0 + (m & 1) * 8));
}

// B operands of two n-tiles where B[k][n] = s[k][n] (s holds B itself: V for p v): k = rows r0..r0+15 of s,
// n = columns c0..c0+15. b[0], b[1] = tile n c0..c0+7; b[2], b[3] = tile n c0+8..c0+15.
template <int LD>
__device__ __forceinline__ void frag_b_kn(u32 b[4], const u16* s, int r0, int c0, int lane) {
    int m = lane >> 3;
    ldsm_x4_t(b, smem_u32(s + (r0 + (lane & 7) + (m & 1) * 8) * LD + c0 + (m >> 1) * 8));
}

// The A operand (k = 16 columns kc*16..kc*16+15) from accumulator tiles c[2kc] and c[2kc+1] of a 16 x N result.
__device__ __forceinline__ void frag_a_from_acc(u32 a[4], const float c0[4], const float c1[4]) {
    a[0] = pack_bf16(c0[0], c0[1]);
    a[1] = pack_bf16(c0[2], c0[3]);
    a[2] = pack_bf16(c1[0], c1[1]);
    a[3] = pack_bf16(c1[2], c1[3]);
}

// The rows of a tile of at most R rows from r0 (< n) that products read: those up to the last valid row (< n),
// rounded up to 16 (an mma's k or two n-tiles). Rows past n among them are staged as 0.
__device__ __forceinline__ int rows16(int R, int r0, int n) { return min(R, (n - r0 + 15) & ~15); }

// Four elements (row r, columns d..d+3) of m's slice at base as bf16; 0 when the row is >= n.
__device__ __forceinline__ uint2 load4(const Bhle& m, i64 base, int r, int d, int n, bool vec, bool bf) {
    uint2 w;
    w.x = w.y = 0u;
    if (r >= n) return w;
    i64 at = base + (i64)r * m.sl + d;
    if (bf) {
        const u16* src = (const u16*)m.p + at;
        if (vec) return *(const uint2*)src;
        w.x = (u32)src[0] | ((u32)src[1] << 16);
        w.y = (u32)src[2] | ((u32)src[3] << 16);
        return w;
    }
    const float* src = (const float*)m.p + at;
    float4 x;
    if (vec) {
        x = *(const float4*)src;
    } else {
        x.x = src[0];
        x.y = src[1];
        x.z = src[2];
        x.w = src[3];
    }
    w.x = pack_bf16(x.x, x.y);
    w.y = pack_bf16(x.z, x.w);
    return w;
}

// Rows [r0, r0 + fill) of m's (b, h) slice into s[fill][E + FA_PAD] as bf16; rows >= n are 0. Each thread issues
// its loads of a round (STAGE_UNROLL of them) before its first store: the compiler cannot move a global load above a
// store to shared memory by itself (it cannot prove they do not alias), and one load in flight at a time left the
// kernels waiting on memory latency tile after tile.
#define STAGE_UNROLL 8
template <int E>
__device__ __forceinline__ void stage(u16* s, const Bhle& m, i64 b, i64 h, int r0, int fill, int n, bool vec, bool bf) {
    constexpr int C4 = E / 4;
    const i64 base = b * m.sb + h * m.sh;
    const int total = fill * C4, step = blockDim.x;
    for (int c0 = threadIdx.x; c0 < total; c0 += STAGE_UNROLL * step) {
        uint2 w[STAGE_UNROLL];
#pragma unroll
        for (int u = 0; u < STAGE_UNROLL; u++) {
            int c = c0 + u * step;
            w[u] = load4(m, base, r0 + c / C4, (c % C4) * 4, c < total ? n : 0, vec, bf);
        }
#pragma unroll
        for (int u = 0; u < STAGE_UNROLL; u++) {
            int c = c0 + u * step;
            if (c < total) *(uint2*)(s + (c / C4) * (E + FA_PAD) + (c % C4) * 4) = w[u];
        }
    }
}

// stage's rows, as cp.async copies when P.async16 (the caller commits the group and waits for it), else through
// registers (done on return).
template <int E>
__device__ __forceinline__ void load_tile(u16* s, const FlashParams& P, const Bhle& m, i64 b, i64 h, int r0, int fill, int n) {
    if (P.async16 == 0) {
        stage<E>(s, m, b, h, r0, fill, n, P.vec != 0, P.bf16 != 0);
        return;
    }
    constexpr int C8 = E / 8;
    const u16* base = (const u16*)m.p + b * m.sb + h * m.sh;
    for (int c = threadIdx.x; c < fill * C8; c += blockDim.x) {
        int r = c / C8, d = (c % C8) * 8;
        bool valid = r0 + r < n;
        cp_async16(s + r * (E + FA_PAD) + d, valid ? base + (i64)(r0 + r) * m.sl + d : base, valid);
    }
}

// Key tile [k0, k0 + 64) of K and V (its rows cut as rows16 with kEnd) into buf: K, then V 64 rows after it.
template <int E>
__device__ __forceinline__ void load_kv(u16* buf, const FlashParams& P, i64 b, i64 h, int k0, int kEnd) {
    const int n = rows16(64, k0, kEnd);
    load_tile<E>(buf, P, P.k, b, h, k0, n, (int)P.Lk);
    load_tile<E>(buf + 64 * (E + FA_PAD), P, P.v, b, h, k0, n, (int)P.Lk);
}

// Element (b, h, i, c) of m as float.
__device__ __forceinline__ float load1(const Bhle& m, i64 b, i64 h, i64 i, int c, bool bf) {
    i64 at = b * m.sb + h * m.sh + i * m.sl + c;
    return bf ? bf16_to_f32(((const u16*)m.p)[at]) : ((const float*)m.p)[at];
}

__device__ __forceinline__ float quad_max(float x) {
    x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 1));
    return fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 2));
}
// Bit j: key k0 + j (j < 64) is masked for every query, from a mask that does not depend on the query (mi = 0, e.g. a
// key-padding mask (B, 1, 1, Lk)): one byte load per lane and two ballots, not one load per score element.
__device__ __forceinline__ u64 banned_keys(const FlashParams& P, i64 b, i64 h, int k0, int lane) {
    const u8* m = P.mask + b * P.mb + h * P.mh;
    const int Lk = (int)P.Lk;
    bool lo = k0 + lane < Lk && m[(i64)(k0 + lane) * P.mj], hi = k0 + 32 + lane < Lk && m[(i64)(k0 + 32 + lane) * P.mj];
    return (u64)__ballot_sync(0xffffffffu, lo) | ((u64)__ballot_sync(0xffffffffu, hi) << 32);
}

// With P.ban_words: the (b, h) row of a key-padding mask as bits in shared memory, bit j % 32 of word j / 32 for key j
// (keys >= Lk: 0), one pass at the start of the kernel (the first barrier of its loop publishes it). Read per tile
// from there, the mask costs no global load between the products (a load there stalled the warp each tile).
__device__ __forceinline__ void ban_bits(u32* sBan, const FlashParams& P, i64 b, i64 h) {
    const u8* m = P.mask + b * P.mb + h * P.mh;
    const int lane = threadIdx.x & 31, nw = blockDim.x >> 5;
    for (int w = threadIdx.x >> 5; w < (int)P.ban_words; w += nw) {
        const int key = 32 * w + lane;
        const u32 bits = __ballot_sync(0xffffffffu, key < (int)P.Lk && m[(i64)key * P.mj]);
        if (lane == 0) sBan[w] = bits;
    }
}

// Bit j: key k0 + j (j < 64, k0 a multiple of 64) is masked for every query: from shared memory (ban_bits) or, for
// masks too long for it, loaded here.
__device__ __forceinline__ u64 banned_tile(const u32* sBan, const FlashParams& P, i64 b, i64 h, int k0, int lane) {
    if (P.ban_words != 0) return (u64)sBan[k0 >> 5] | ((u64)sBan[(k0 >> 5) + 1] << 32);
    return P.mask != nullptr && P.mi == 0 ? banned_keys(P, b, h, k0, lane) : 0;
}

// The keep words of row (bh, i): key j's decision is bit j % 32 of word j / 32.
__device__ __forceinline__ u32* keep_row(const FlashParams& P, i64 bh, int i) { return P.keep + ((u64)bh * P.Lq + i) * P.keep_words; }

__device__ __forceinline__ u64 quad_or(u64 x) {
#pragma unroll
    for (int m = 1; m <= 2; m <<= 1) {
        u32 lo = __shfl_xor_sync(0xffffffffu, (u32)x, m), hi = __shfl_xor_sync(0xffffffffu, (u32)(x >> 32), m);
        x |= (u64)lo | ((u64)hi << 32);
    }
    return x;
}
__device__ __forceinline__ float quad_sum(float x) {
    x += __shfl_xor_sync(0xffffffffu, x, 1);
    return x + __shfl_xor_sync(0xffffffffu, x, 2);
}

// Writes the 16 x E accumulator acc (rows row0 + g, row0 + g + 8, E/8 tiles) times f[row] into m's slice; rows >= n skipped.
template <int E>
__device__ __forceinline__ void store_rows(const Bhle& m, i64 b, i64 h, int row0, int n, const float acc[][4],
                                           const float f[2], bool vec, bool bf, int lane) {
    int g = lane >> 2, t = lane & 3;
    const i64 base = b * m.sb + h * m.sh;
#pragma unroll
    for (int r = 0; r < 2; r++) {
        int row = row0 + g + 8 * r;
        if (row >= n) continue;
        i64 at = base + (i64)row * m.sl + 2 * t;
#pragma unroll
        for (int dt = 0; dt < E / 8; dt++) {
            float x0 = acc[dt][2 * r] * f[r], x1 = acc[dt][2 * r + 1] * f[r];
            if (bf) {
                u16* dst = (u16*)m.p + at + dt * 8;
                if (vec) {
                    *(u32*)dst = (u32)f32_to_bf16(x0) | ((u32)f32_to_bf16(x1) << 16);
                } else {
                    dst[0] = f32_to_bf16(x0);
                    dst[1] = f32_to_bf16(x1);
                }
            } else {
                float* dst = (float*)m.p + at + dt * 8;
                if (vec) {
                    float2 v;
                    v.x = x0;
                    v.y = x1;
                    *(float2*)dst = v;
                } else {
                    dst[0] = x0;
                    dst[1] = x1;
                }
            }
        }
    }
}

// ------------------------------------------------------------------------------------------ forward

// Block: BM = 16 MT x warps queries of one (b, h); warp w owns the MT m-tiles of 16 queries from q0 + 16 MT w and loops
// over key tiles of 64 (MT = 2: each K and V fragment read from shared memory feeds two products, and the warp has
// twice the independent work). Shared: Q [BM][E + 8], then K, V [64][E + 8] bf16 in two buffers when Lk > 64 (one
// otherwise): the copies of tile i + 1 are in flight while tile i is computed; then a key-padding mask's bits
// (ban_bits). Per warp, m-tile and key tile: S (16 x 64) = Q K^T, online softmax in fp32 (log2 units), O (16 x E) += P V
// with P rounded to bf16. A thread's rows: slot R = 2 mt + r is row row0 + 16 mt + g + 8 r.
template <int E, int MT>
__device__ __forceinline__ void flash_fwd(const FlashParams& P) {
    constexpr int BN = 64, LD = E + FA_PAD, RW = 16 * MT;
    const int BM = RW * ((int)blockDim.x >> 5);
    extern __shared__ __align__(16) u16 fa_smem[];
    u16* sQ = fa_smem;
    u16* sKV = sQ + BM * LD;  // buffer i: K at sKV + 2 i BN LD, V after it
    const int Lq = (int)P.Lq, Lk = (int)P.Lk;
    u32* sBan = (u32*)(sKV + (Lk > BN ? 2 : 1) * 2 * BN * LD);  // ban_words words
    const i64 bh = P.bh0 + blockIdx.y, b = bh / P.H, h = bh % P.H;
    const int q0 = blockIdx.x * BM, warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const bool vec = P.vec != 0, bf = P.bf16 != 0, dropout = P.keep_threshold != 0, causal = P.causal != 0;
    const u64 offset = dropout ? P.offset + (u64)*P.offset_shift : 0;
    if (P.ban_words != 0) ban_bits(sBan, P, b, h);
    const float sl2 = (float)(P.scale * 1.4426950408889634);
    const int row0 = q0 + RW * warp;
    const bool active = row0 < Lq;
    const int mtN = active ? min(MT, (Lq - row0 + 15) >> 4) : 0;  // m-tiles holding a valid row
    int rows[2 * MT];
    i64 mrow[2 * MT];
#pragma unroll
    for (int R = 0; R < 2 * MT; R++) {
        rows[R] = row0 + 16 * (R >> 1) + g + 8 * (R & 1);
        mrow[R] = b * P.mb + h * P.mh + (i64)rows[R] * P.mi;
    }

    float o[MT][E / 8][4];
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int dt = 0; dt < E / 8; dt++) o[mt][dt][0] = o[mt][dt][1] = o[mt][dt][2] = o[mt][dt][3] = 0.0f;
    float m[2 * MT], l[2 * MT];
#pragma unroll
    for (int R = 0; R < 2 * MT; R++) {
        m[R] = -F_INF;
        l[R] = 0.0f;
    }

    const int kEnd = causal ? min(Lk, q0 + BM) : Lk;  // causal: keys past the block's last query are masked for all its rows
    load_tile<E>(sQ, P, P.q, b, h, q0, rows16(BM, q0, Lq), Lq);
    load_kv<E>(sKV, P, b, h, 0, kEnd);
    cp_async_commit();
    for (int k0 = 0, it = 0; k0 < kEnd; k0 += BN, it++) {
        const int nk = rows16(BN, k0, kEnd);  // keys of the tile that products read
        const u16* sK = sKV + (it & 1) * 2 * BN * LD;
        const u16* sV = sK + BN * LD;
        __syncthreads();  // tile it - 1 is consumed: its buffer takes tile it + 1
        if (k0 + BN < kEnd) load_kv<E>(sKV + ((it + 1) & 1) * 2 * BN * LD, P, b, h, k0 + BN, kEnd);
        cp_async_commit();
        cp_async_wait<1>();  // tile it (and Q) is in
        __syncthreads();
        if (!active) continue;

        float s[MT][BN / 8][4];
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
#pragma unroll
            for (int nt = 0; nt < BN / 8; nt++) s[mt][nt][0] = s[mt][nt][1] = s[mt][nt][2] = s[mt][nt][3] = 0.0f;
#pragma unroll
        for (int kc = 0; kc < E / 16; kc++) {
            u32 a[MT][4];
#pragma unroll
            for (int mt = 0; mt < MT; mt++) {
                if (MT == 1 || mt < mtN) frag_a<LD>(a[mt], sQ, RW * warp + 16 * mt, 16 * kc, lane);
            }
#pragma unroll
            for (int nt = 0; nt < BN / 8; nt += 2) {
                if (8 * nt >= nk) break;
                u32 bb[4];
                frag_b_nk<LD>(bb, sK, 8 * nt, 16 * kc, lane);
#pragma unroll
                for (int mt = 0; mt < MT; mt++) {
                    if (MT > 1 && mt >= mtN) break;
                    mma_bf16(s[mt][nt], a[mt], bb[0], bb[1]);
                    mma_bf16(s[mt][nt + 1], a[mt], bb[2], bb[3]);
                }
            }
        }

        // s[mt][nt][e] is (row rows[2 mt + e / 2], key k0 + 8 nt + 2t + e % 2): scale to log2 units, -inf where not
        // allowed. A tile within the keys, below the diagonal for all the warp's rows and without a mask (or a
        // key-padding mask that bans none of its keys: banned is the same in every lane) skips the tests.
        const u64 banned = banned_tile(sBan, P, b, h, k0, lane);
        const bool edge = k0 + BN > Lk || (causal && k0 + BN - 1 > row0) || (P.mask != nullptr && (P.mi != 0 || banned != 0));
#pragma unroll
        for (int mt = 0; mt < MT; mt++) {
#pragma unroll
            for (int nt = 0; nt < BN / 8; nt++) {
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    const int j = 8 * nt + 2 * t + (e & 1), key = k0 + j, R = 2 * mt + (e >> 1);
                    const bool off = edge && (key >= Lk || (causal && key > rows[R]) || ((banned >> j) & 1)
                                              || (P.mask != nullptr && P.mi != 0 && rows[R] < Lq && P.mask[mrow[R] + key * P.mj]));
                    s[mt][nt][e] = off ? -F_INF : s[mt][nt][e] * sl2;
                }
            }
        }
#pragma unroll
        for (int R = 0; R < 2 * MT; R++) {
            const int mt = R >> 1, r = R & 1;
            float mx = m[R];
#pragma unroll
            for (int nt = 0; nt < BN / 8; nt++) mx = fmaxf(mx, fmaxf(s[mt][nt][2 * r], s[mt][nt][2 * r + 1]));
            mx = quad_max(mx);
            float mu = mx == -F_INF ? 0.0f : mx;  // nothing allowed yet: every p is 0, never NaN
            float alpha = exp2_fast(m[R] - mu);
            m[R] = mx;
            l[R] *= alpha;
#pragma unroll
            for (int dt = 0; dt < E / 8; dt++) {
                o[mt][dt][2 * r] *= alpha;
                o[mt][dt][2 * r + 1] *= alpha;
            }
#pragma unroll
            for (int nt = 0; nt < BN / 8; nt++) {
                float p0 = exp2_fast(s[mt][nt][2 * r] - mu), p1 = exp2_fast(s[mt][nt][2 * r + 1] - mu);
                l[R] += p0 + p1;  // this thread's part of the row sum (the quad is summed at the end)
                s[mt][nt][2 * r] = p0;
                s[mt][nt][2 * r + 1] = p1;
            }
        }
        if (dropout) {
            // keep bit j of a row: key k0 + j; the backward reads these instead of drawing the numbers again. The quad
            // holds a row's 64 keys: its threads draw the row's Philox blocks in turn (thread t: blocks t, t + 4, ...),
            // each block once, and OR their bits.
            u64 kb[2 * MT];
            const u32 thr = (u32)P.keep_threshold;
#pragma unroll
            for (int R = 0; R < 2 * MT; R++) {
                u64 bits = 0;
                if (rows[R] < Lq) {
                    const u64 first = ((u64)bh * Lq + rows[R]) * Lk + k0;  // element index of (row, key k0)
                    const int sh = (int)(first & 3), nb = (sh + min(BN, Lk - k0) + 3) >> 2;
                    for (int blk = t; blk < nb; blk += 4) {
                        u32 w[4];
                        philox(offset + (first >> 2) + blk, P.seed, w);
#pragma unroll
                        for (int c = 0; c < 4; c++) {
                            int j = 4 * blk + c - sh;
                            if (j >= 0 && j < BN && k0 + j < Lk && (w[c] >> 8) >= thr) bits |= 1ull << j;
                        }
                    }
                }
                kb[R] = quad_or(bits);
            }
#pragma unroll
            for (int mt = 0; mt < MT; mt++) {
#pragma unroll
                for (int nt = 0; nt < BN / 8; nt++) {
#pragma unroll
                    for (int e = 0; e < 4; e++) {
                        if (!((kb[2 * mt + (e >> 1)] >> (8 * nt + 2 * t + (e & 1))) & 1)) s[mt][nt][e] = 0.0f;
                    }
                }
            }
#pragma unroll
            for (int R = 0; R < 2 * MT; R++) {
                if (t == 0 && rows[R] < Lq) {
                    u32* w = keep_row(P, bh, rows[R]) + (k0 >> 5);
                    w[0] = (u32)kb[R];
                    w[1] = (u32)(kb[R] >> 32);
                }
            }
        }

        // O += P V: k = the tile's keys, 16 at a time
#pragma unroll
        for (int kc = 0; kc < BN / 16; kc++) {
            if (16 * kc >= nk) break;
            u32 a[MT][4];
#pragma unroll
            for (int mt = 0; mt < MT; mt++) frag_a_from_acc(a[mt], s[mt][2 * kc], s[mt][2 * kc + 1]);
#pragma unroll
            for (int dt = 0; dt < E / 8; dt += 2) {
                u32 bb[4];
                frag_b_kn<LD>(bb, sV, 16 * kc, 8 * dt, lane);
#pragma unroll
                for (int mt = 0; mt < MT; mt++) {
                    if (MT > 1 && mt >= mtN) break;
                    mma_bf16(o[mt][dt], a[mt], bb[0], bb[1]);
                    mma_bf16(o[mt][dt + 1], a[mt], bb[2], bb[3]);
                }
            }
        }
    }
    if (!active) return;

#pragma unroll
    for (int mt = 0; mt < MT; mt++) {
        if (MT > 1 && mt >= mtN) break;
        float f[2];
#pragma unroll
        for (int r = 0; r < 2; r++) {
            const int R = 2 * mt + r;
            float sum = quad_sum(l[R]);
            f[r] = sum > 0.0f ? (float)P.dropout_scale / sum : 0.0f;
            if (t == 0 && rows[R] < Lq) P.lse[bh * Lq + rows[R]] = sum > 0.0f ? (m[R] + log2f(sum)) * LN2 : F_INF;
        }
        store_rows<E>(P.o, b, h, row0 + 16 * mt, Lq, o[mt], f, vec, bf, lane);
    }
}

extern "C" __global__ void __maxnreg__(128) flash_attn_fwd_e32(const FlashParams P) { flash_fwd<32, 1>(P); }
// E = 64 (the harness's workloads) under register caps: the register file is 16K per scheduler, so ptxas's own choice for
// these kernels (156-207 registers) left 2 or 3 warps per scheduler; 128 leave 4, 168 leave 3, without spilling.
extern "C" __global__ void __maxnreg__(128) flash_attn_fwd_e64(const FlashParams P) { flash_fwd<64, 1>(P); }
extern "C" __global__ void __launch_bounds__(FA_MAX_THREADS) flash_attn_fwd_e128(const FlashParams P) { flash_fwd<128, 1>(P); }
// Two m-tiles per warp (32 queries) for sequences longer than a block of one-tile warps: E = 32 and 64 (E = 128 would
// hold 128 fp32 accumulators of O per thread), 4 warps of 128 queries, 2 blocks per SM by their registers. Opt-in:
// measured 14-33% slower than one tile per warp on an H100 (2 warps per scheduler instead of 4).
extern "C" __global__ void __launch_bounds__(128) flash_attn_fwd_m2_e32(const FlashParams P) { flash_fwd<32, 2>(P); }
extern "C" __global__ void __launch_bounds__(128) flash_attn_fwd_m2_e64(const FlashParams P) { flash_fwd<64, 2>(P); }

// ------------------------------------------------------------------------------------------ backward

// The dot product of 8 bf16 pairs in fp32.
__device__ __forceinline__ float dot_bf16x8(uint4 a, uint4 b) {
    const u32 x[4] = {a.x, a.y, a.z, a.w}, y[4] = {b.x, b.y, b.z, b.w};
    float s = 0.0f;
#pragma unroll
    for (int k = 0; k < 4; k++) {
        s += __uint_as_float(x[k] << 16) * __uint_as_float(y[k] << 16);
        s += __uint_as_float(x[k] & 0xffff0000u) * __uint_as_float(y[k] & 0xffff0000u);
    }
    return s;
}

// delta (B*H, Lq) = rowsum(dout * out) in fp32. With P.async16 (bf16 rows, 16-byte aligned) E / 8 threads per row, one
// 16-byte load of each operand per thread, summed by shuffles; otherwise a warp per row (E a multiple of 32).
// Grid-stride over the rows.
extern "C" __global__ void flash_attn_bwd_delta(const FlashParams P, int E) {
    const int lane = threadIdx.x & 31, warps = blockDim.x >> 5;
    const i64 rows = P.B * P.H * P.Lq;
    if (P.async16 != 0) {
        const int per = E / 8;  // 4, 8 or 16: a row's threads are in one warp
        const i64 total = rows * per, step = (i64)gridDim.x * blockDim.x;
        for (i64 x0 = (i64)blockIdx.x * blockDim.x; x0 < total; x0 += step) {  // every lane takes part in the shuffles
            const i64 x = x0 + threadIdx.x, r = x / per;
            const int c = (int)(x % per) * 8;
            float sum = 0.0f;
            if (x < total) {
                i64 bh = r / P.Lq, i = r - bh * P.Lq, b = bh / P.H, h = bh % P.H;
                uint4 o = *(const uint4*)((const u16*)P.o.p + b * P.o.sb + h * P.o.sh + i * P.o.sl + c);
                uint4 d = *(const uint4*)((const u16*)P.dout.p + b * P.dout.sb + h * P.dout.sh + i * P.dout.sl + c);
                sum = dot_bf16x8(o, d);
            }
            for (int m = per >> 1; m > 0; m >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, m);
            if (x < total && c == 0) P.delta[r] = sum;
        }
        return;
    }
    for (i64 r = (i64)blockIdx.x * warps + (threadIdx.x >> 5); r < rows; r += (i64)gridDim.x * warps) {
        i64 bh = r / P.Lq, i = r - bh * P.Lq, b = bh / P.H, h = bh % P.H;
        const bool bf = P.bf16 != 0;
        float sum = 0.0f;
        for (int c = lane; c < E; c += 32) sum += load1(P.o, b, h, i, c, bf) * load1(P.dout, b, h, i, c, bf);
#pragma unroll
        for (int x = 16; x > 0; x >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, x);
        if (lane == 0) P.delta[r] = sum;
    }
}

// dk, dv of BN = 16 x warps keys of one (b, h): warp w owns keys k0 + 16w .. + 15 and loops over query tiles of BM. Per tile it
// works on the transposed scores, so that every product has its rows in the warp's keys (no reduction across warps):
//   S^T = K Q^T (16 x BM), P^T = exp2(S^T scale log2e - lse log2e), Z = keep mask
//   dv += (P^T Z) dout                                   (times dropout_scale at the end)
//   dP^T = V dout^T, dS^T = P^T (Z dP^T dropout_scale - D)
//   dk += dS^T Q                                         (times scale at the end)
// DQ (the block holds every key: Lk <= 128, one block per (b, h)): the warps also write dS^T to shared memory, and once
// the tile's dS^T is whole, dq of its queries = dS K (times scale) with warps owning 16 queries each, stored at once:
// the backward is one kernel, with no second pass that recomputes S and dP.
// Shared: K, V [BN][E + 8], (DQ) dS^T [BN][BM + 8], then Q, dout [BM][E + 8] bf16, lse, D [BM] fp32 and (dropout) the
// forward's keep words of the block's keys [BM][4] in two buffers when Lq > BM (one otherwise): the copies of query
// tile i + 1 are in flight while tile i is computed.
template <int E, int BM, bool DQ>
__device__ __forceinline__ void flash_bwd_dkdv(const FlashParams& P) {
    constexpr int LD = E + FA_PAD, LDT = BM + FA_PAD;
    const int BN = (int)blockDim.x >> 1, nw = (int)blockDim.x >> 5;
    const int Lq = (int)P.Lq, Lk = (int)P.Lk, nbuf = Lq > BM ? 2 : 1;
    extern __shared__ __align__(16) u16 fa_smem[];
    u16* sK = fa_smem;
    u16* sV = sK + BN * LD;
    u16* sT = sV + BN * LD;                // DQ: dS^T
    u16* sQO = sT + (DQ ? BN * LDT : 0);   // buffer i: Q at sQO + 2 i BM LD, dout after it
    float* sLD = (float*)(sQO + nbuf * 2 * BM * LD);  // buffer i: lse at sLD + 2 i BM, D after it
    u32* sKW = (u32*)(sLD + nbuf * 2 * BM);  // buffer i: with dropout, the keep words of the block's keys, 4 per query
    const i64 bh = P.bh0 + blockIdx.y, b = bh / P.H, h = bh % P.H;
    const int k0 = blockIdx.x * BN, warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const bool vec = P.vec != 0, bf = P.bf16 != 0, dropout = P.keep_threshold != 0, causal = P.causal != 0;
    const float sl2 = (float)(P.scale * 1.4426950408889634), dscale = (float)P.dropout_scale;
    const int key0 = k0 + 16 * warp;
    const bool active = key0 < Lk;
    const int keys[2] = {key0 + g, key0 + g + 8};
    const i64 mbh = b * P.mb + h * P.mh;
    // a mask that does not depend on the query (mi = 0): the thread's two keys read once; else per element below
    const bool rowMask = P.mask != nullptr && P.mi != 0;
    bool kban[2] = {false, false};
    for (int r = 0; r < 2; r++) kban[r] = P.mask != nullptr && P.mi == 0 && keys[r] < Lk && P.mask[mbh + (i64)keys[r] * P.mj];
    // the warp's keys inside Lk and none banned: only query tiles past Lq or across the diagonal need the tests below
    const bool keysPlain = key0 + 16 <= Lk && !rowMask && !__any_sync(0xffffffffu, kban[0] || kban[1]);

    // Q, dout, lse and D of the queries [q0, q0 + BM) into buffer i (rows past Lq: zeros)
    // (dropout) and the forward's keep words of keys [k0, k0 + BN) for those queries: pairs of words from word k0 / 32
    // (rows have an even count of words, k0 is a multiple of 64 or 0: 8-byte aligned; at most 4 words, within the row)
    const int kpairs = (BN + 63) >> 6;
    auto load_queries = [&](int i, int q0) {
        u16* q = sQO + i * 2 * BM * LD;
        float* ld = sLD + i * 2 * BM;
        load_tile<E>(q, P, P.q, b, h, q0, rows16(BM, q0, Lq), Lq);
        load_tile<E>(q + BM * LD, P, P.dout, b, h, q0, rows16(BM, q0, Lq), Lq);
        for (int r = threadIdx.x; r < BM; r += blockDim.x) {
            bool in = q0 + r < Lq;
            cp_async4(ld + r, in ? P.lse + bh * Lq + q0 + r : P.lse, in);
            cp_async4(ld + BM + r, in ? P.delta + bh * Lq + q0 + r : P.delta, in);
        }
        if (dropout) {
            for (int c = threadIdx.x; c < BM * kpairs; c += blockDim.x) {
                const int r = kpairs == 1 ? c : c >> 1, w = kpairs == 1 ? 0 : 2 * (c & 1);
                const bool in = q0 + r < Lq;
                cp_async8(sKW + i * 4 * BM + 4 * r + w, in ? keep_row(P, bh, q0 + r) + (k0 >> 5) + w : P.keep, in);
            }
        }
    };

    const int nk = rows16(BN, k0, Lk), qStart = causal ? k0 / BM * BM : 0;  // causal: queries before k0 see none of these keys
    load_tile<E>(sK, P, P.k, b, h, k0, nk, Lk);
    load_tile<E>(sV, P, P.v, b, h, k0, nk, Lk);
    if (qStart < Lq) load_queries(0, qStart);
    cp_async_commit();

    float dk[E / 8][4], dv[E / 8][4];
#pragma unroll
    for (int dt = 0; dt < E / 8; dt++) {
        dk[dt][0] = dk[dt][1] = dk[dt][2] = dk[dt][3] = 0.0f;
        dv[dt][0] = dv[dt][1] = dv[dt][2] = dv[dt][3] = 0.0f;
    }

    for (int q0 = qStart, it = 0; q0 < Lq; q0 += BM, it++) {
        const int nq = rows16(BM, q0, Lq);  // queries of the tile that products read
        const u16* sQ = sQO + (it & 1) * 2 * BM * LD;
        const u16* sO = sQ + BM * LD;  // dout
        const float* sL = sLD + (it & 1) * 2 * BM;
        const float* sD = sL + BM;
        __syncthreads();  // tile it - 1 (and its dS^T) is consumed: its buffer takes tile it + 1
        if (q0 + BM < Lq) load_queries((it + 1) & 1, q0 + BM);
        cp_async_commit();
        cp_async_wait<1>();  // tile it (and K, V) is in
        __syncthreads();
        if (active) {
            // S^T (16 keys x BM queries) = K Q^T
            float p[BM / 8][4];
#pragma unroll
            for (int nt = 0; nt < BM / 8; nt++) p[nt][0] = p[nt][1] = p[nt][2] = p[nt][3] = 0.0f;
#pragma unroll
            for (int kc = 0; kc < E / 16; kc++) {
                u32 a[4];
                frag_a<LD>(a, sK, 16 * warp, 16 * kc, lane);
#pragma unroll
                for (int nt = 0; nt < BM / 8; nt += 2) {
                    if (8 * nt >= nq) break;
                    u32 bb[4];
                    frag_b_nk<LD>(bb, sQ, 8 * nt, 16 * kc, lane);
                    mma_bf16(p[nt], a, bb[0], bb[1]);
                    mma_bf16(p[nt + 1], a, bb[2], bb[3]);
                }
            }
            // p[nt][e] is (key keys[e / 2], query q0 + 8 nt + 2t + e % 2); keep bit 4 nt + e of `kept`. The forward's keep
            // word of a query holds the warp's 16 keys (key0 is a multiple of 16), staged with the query tile.
            const bool edge = !keysPlain || q0 + BM > Lq || (causal && key0 + 15 > q0);
            u32 kept = 0;
#pragma unroll
            for (int nt = 0; nt < BM / 8; nt++) {
                u32 kw[2];
#pragma unroll
                for (int c = 0; c < 2; c++) {
                    int qi = 8 * nt + 2 * t + c;
                    kw[c] = dropout && q0 + qi < Lq ? sKW[(it & 1) * 4 * BM + 4 * qi + (warp >> 1)] : ~0u;  // the warp's keys' word
                }
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    int qi = 8 * nt + 2 * t + (e & 1), query = q0 + qi, key = keys[e >> 1];
                    bool off = edge && (key >= Lk || query >= Lq || (causal && key > query) || kban[e >> 1]
                                        || (rowMask && P.mask[mbh + (i64)query * P.mi + (i64)key * P.mj]));
                    float x = off ? 0.0f : exp2_fast(p[nt][e] * sl2 - sL[qi] * LOG2E);
                    p[nt][e] = x;
                    if (!off && (kw[e & 1] >> (key & 31)) & 1u) kept |= 1u << (4 * nt + e);
                }
            }

            // dv += (P^T Z) dout: k = the tile's queries, 16 at a time
#pragma unroll
            for (int kc = 0; kc < BM / 16; kc++) {
                if (16 * kc >= nq) break;
                float z0[4], z1[4];
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    z0[e] = (kept >> (4 * (2 * kc) + e)) & 1 ? p[2 * kc][e] : 0.0f;
                    z1[e] = (kept >> (4 * (2 * kc + 1) + e)) & 1 ? p[2 * kc + 1][e] : 0.0f;
                }
                u32 a[4];
                frag_a_from_acc(a, z0, z1);
#pragma unroll
                for (int dt = 0; dt < E / 8; dt += 2) {
                    u32 bb[4];
                    frag_b_kn<LD>(bb, sO, 16 * kc, 8 * dt, lane);
                    mma_bf16(dv[dt], a, bb[0], bb[1]);
                    mma_bf16(dv[dt + 1], a, bb[2], bb[3]);
                }
            }

            // dP^T (16 keys x BM queries) = V dout^T
            float dp[BM / 8][4];
#pragma unroll
            for (int nt = 0; nt < BM / 8; nt++) dp[nt][0] = dp[nt][1] = dp[nt][2] = dp[nt][3] = 0.0f;
#pragma unroll
            for (int kc = 0; kc < E / 16; kc++) {
                u32 a[4];
                frag_a<LD>(a, sV, 16 * warp, 16 * kc, lane);
#pragma unroll
                for (int nt = 0; nt < BM / 8; nt += 2) {
                    if (8 * nt >= nq) break;
                    u32 bb[4];
                    frag_b_nk<LD>(bb, sO, 8 * nt, 16 * kc, lane);
                    mma_bf16(dp[nt], a, bb[0], bb[1]);
                    mma_bf16(dp[nt + 1], a, bb[2], bb[3]);
                }
            }
            // dS^T = P^T (Z dP^T dropout_scale - D), in place of dp
#pragma unroll
            for (int nt = 0; nt < BM / 8; nt++) {
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    float z = (kept >> (4 * nt + e)) & 1 ? dp[nt][e] * dscale : 0.0f;
                    dp[nt][e] = p[nt][e] * (z - sD[8 * nt + 2 * t + (e & 1)]);
                }
            }
            if (DQ) {  // dS^T rows = the warp's keys (k0 = 0), bf16 pairs of adjacent queries
#pragma unroll
                for (int nt = 0; nt < BM / 8; nt++) {
#pragma unroll
                    for (int r = 0; r < 2; r++) {
                        *(u32*)(sT + (16 * warp + g + 8 * r) * LDT + 8 * nt + 2 * t) = pack_bf16(dp[nt][2 * r], dp[nt][2 * r + 1]);
                    }
                }
            }

            // dk += dS^T Q
#pragma unroll
            for (int kc = 0; kc < BM / 16; kc++) {
                if (16 * kc >= nq) break;
                u32 a[4];
                frag_a_from_acc(a, dp[2 * kc], dp[2 * kc + 1]);
#pragma unroll
                for (int dt = 0; dt < E / 8; dt += 2) {
                    u32 bb[4];
                    frag_b_kn<LD>(bb, sQ, 16 * kc, 8 * dt, lane);
                    mma_bf16(dk[dt], a, bb[0], bb[1]);
                    mma_bf16(dk[dt + 1], a, bb[2], bb[3]);
                }
            }
        }
        if (DQ) {
            // dq (16 queries x E) = dS K over all the block's keys: k = keys 16 at a time, dS from the transposed tile
            __syncthreads();
            const float f[2] = {(float)P.scale, (float)P.scale};
            for (int rg = warp; 16 * rg < nq; rg += nw) {
                float dq[E / 8][4];
#pragma unroll
                for (int dt = 0; dt < E / 8; dt++) dq[dt][0] = dq[dt][1] = dq[dt][2] = dq[dt][3] = 0.0f;
                for (int kc = 0; 16 * kc < nk; kc++) {
                    u32 a[4];
                    frag_a_t<LDT>(a, sT, 16 * rg, 16 * kc, lane);
#pragma unroll
                    for (int dt = 0; dt < E / 8; dt += 2) {
                        u32 bb[4];
                        frag_b_kn<LD>(bb, sK, 16 * kc, 8 * dt, lane);
                        mma_bf16(dq[dt], a, bb[0], bb[1]);
                        mma_bf16(dq[dt + 1], a, bb[2], bb[3]);
                    }
                }
                store_rows<E>(P.dq, b, h, q0 + 16 * rg, Lq, dq, f, vec, bf, lane);
            }
        }
    }
    if (!active) return;
    const float fk[2] = {(float)P.scale, (float)P.scale}, fv[2] = {dscale, dscale};
    store_rows<E>(P.dk, b, h, key0, Lk, dk, fk, vec, bf, lane);
    store_rows<E>(P.dv, b, h, key0, Lk, dv, fv, vec, bf, lane);
}

extern "C" __global__ void __maxnreg__(168) flash_attn_bwd_dkdv_e32(const FlashParams P) { flash_bwd_dkdv<32, 64, false>(P); }
extern "C" __global__ void __maxnreg__(168) flash_attn_bwd_dkdv_e64(const FlashParams P) { flash_bwd_dkdv<64, 64, false>(P); }
extern "C" __global__ void __launch_bounds__(FA_MAX_THREADS) flash_attn_bwd_dkdv_e128(const FlashParams P) { flash_bwd_dkdv<128, 32, false>(P); }
extern "C" __global__ void __maxnreg__(168) flash_attn_bwd_e32(const FlashParams P) { flash_bwd_dkdv<32, 64, true>(P); }
extern "C" __global__ void __maxnreg__(168) flash_attn_bwd_e64(const FlashParams P) { flash_bwd_dkdv<64, 64, true>(P); }
extern "C" __global__ void __launch_bounds__(FA_MAX_THREADS) flash_attn_bwd_e128(const FlashParams P) { flash_bwd_dkdv<128, 32, true>(P); }

// dq of BM = 16 MT x warps queries of one (b, h): warp w owns the MT m-tiles of 16 queries from q0 + 16 MT w and loops
// over key tiles of 64:
//   S = Q K^T, P = exp2(S scale log2e - lse log2e), dP = dout V^T, dS = P (Z dP dropout_scale - D), dq += dS K
// (times scale at the end). Shared: Q, dout [BM][E + 8], then K, V [64][E + 8] bf16 in two buffers when Lk > 64, as in
// the forward, (dropout) the keep words of the tile's keys [BM][2] per buffer, and a key-padding mask's bits
// (ban_bits). Used when Lk > 128; shorter keys take flash_attn_bwd_e*, which computes dq beside dk and dv. A thread's
// rows: slot R = 2 mt + r is row row0 + 16 mt + g + 8 r.
template <int E, int MT>
__device__ __forceinline__ void flash_bwd_dq(const FlashParams& P) {
    constexpr int BN = 64, LD = E + FA_PAD, RW = 16 * MT;
    const int BM = RW * ((int)blockDim.x >> 5);
    extern __shared__ __align__(16) u16 fa_smem[];
    u16* sQ = fa_smem;
    u16* sO = sQ + BM * LD;  // dout
    u16* sKV = sO + BM * LD;  // buffer i: K at sKV + 2 i BN LD, V after it
    const int Lq = (int)P.Lq, Lk = (int)P.Lk, nbuf = Lk > BN ? 2 : 1;
    u32* sKB = (u32*)(sKV + nbuf * 2 * BN * LD);  // buffer i: with dropout, the tile's 2 keep words per query, at sKB + 2 i BM
    u32* sBan = sKB + nbuf * 2 * BM;              // ban_words words
    const i64 bh = P.bh0 + blockIdx.y, b = bh / P.H, h = bh % P.H;
    const int q0 = blockIdx.x * BM, warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const bool vec = P.vec != 0, bf = P.bf16 != 0, dropout = P.keep_threshold != 0, causal = P.causal != 0;
    const float sl2 = (float)(P.scale * 1.4426950408889634), dscale = (float)P.dropout_scale;
    if (P.ban_words != 0) ban_bits(sBan, P, b, h);
    // the tile's K, V and (dropout) the forward's keep words of keys [k0, k0 + 64) for the block's queries into buffer i
    auto load_tile_kv = [&](int i, int k0, int kEnd) {
        load_kv<E>(sKV + i * 2 * BN * LD, P, b, h, k0, kEnd);
        if (!dropout) return;
        for (int r = threadIdx.x; r < BM; r += blockDim.x) {
            const bool in = q0 + r < Lq;
            cp_async8(sKB + i * 2 * BM + 2 * r, in ? keep_row(P, bh, q0 + r) + (k0 >> 5) : P.keep, in);
        }
    };
    const int row0 = q0 + RW * warp;
    const bool active = row0 < Lq;
    const int mtN = active ? min(MT, (Lq - row0 + 15) >> 4) : 0;  // m-tiles holding a valid row
    int rows[2 * MT];
    i64 mrow[2 * MT];
    float lse2[2 * MT], dd[2 * MT];
#pragma unroll
    for (int R = 0; R < 2 * MT; R++) {
        rows[R] = row0 + 16 * (R >> 1) + g + 8 * (R & 1);
        mrow[R] = b * P.mb + h * P.mh + (i64)rows[R] * P.mi;
        bool in = rows[R] < Lq;
        lse2[R] = in ? P.lse[bh * Lq + rows[R]] * LOG2E : F_INF;
        dd[R] = in ? P.delta[bh * Lq + rows[R]] : 0.0f;
    }

    float dq[MT][E / 8][4];
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int dt = 0; dt < E / 8; dt++) dq[mt][dt][0] = dq[mt][dt][1] = dq[mt][dt][2] = dq[mt][dt][3] = 0.0f;

    const int nq = rows16(BM, q0, Lq), kEnd = causal ? min(Lk, q0 + BM) : Lk;  // kEnd: as in the forward
    load_tile<E>(sQ, P, P.q, b, h, q0, nq, Lq);
    load_tile<E>(sO, P, P.dout, b, h, q0, nq, Lq);
    if (kEnd > 0) load_tile_kv(0, 0, kEnd);
    cp_async_commit();
    for (int k0 = 0, it = 0; k0 < kEnd; k0 += BN, it++) {
        const int nk = rows16(BN, k0, kEnd);
        const u16* sK = sKV + (it & 1) * 2 * BN * LD;
        const u16* sV = sK + BN * LD;
        const u32* sW = sKB + (it & 1) * 2 * BM + 2 * RW * warp;  // row slot R's two keep words at sW[2 (rows[R] - row0)]
        __syncthreads();  // tile it - 1 is consumed: its buffer takes tile it + 1
        if (k0 + BN < kEnd) load_tile_kv((it + 1) & 1, k0 + BN, kEnd);
        cp_async_commit();
        cp_async_wait<1>();  // tile it (and Q, dout) is in
        __syncthreads();
        if (!active) continue;

        float s[MT][BN / 8][4], dp[MT][BN / 8][4];
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
#pragma unroll
            for (int nt = 0; nt < BN / 8; nt++) {
                s[mt][nt][0] = s[mt][nt][1] = s[mt][nt][2] = s[mt][nt][3] = 0.0f;
                dp[mt][nt][0] = dp[mt][nt][1] = dp[mt][nt][2] = dp[mt][nt][3] = 0.0f;
            }
        // S = Q K^T, then dP = dout V^T (ao: dout's fragments; one product at a time keeps fewer fragments live)
#pragma unroll
        for (int pass = 0; pass < 2; pass++) {
#pragma unroll
            for (int kc = 0; kc < E / 16; kc++) {
                u32 a[MT][4];
#pragma unroll
                for (int mt = 0; mt < MT; mt++) {
                    if (MT == 1 || mt < mtN) frag_a<LD>(a[mt], pass == 0 ? sQ : sO, RW * warp + 16 * mt, 16 * kc, lane);
                }
#pragma unroll
                for (int nt = 0; nt < BN / 8; nt += 2) {
                    if (8 * nt >= nk) break;
                    u32 bb[4];
                    frag_b_nk<LD>(bb, pass == 0 ? sK : sV, 8 * nt, 16 * kc, lane);
#pragma unroll
                    for (int mt = 0; mt < MT; mt++) {
                        if (MT > 1 && mt >= mtN) break;
                        float(*acc)[4] = pass == 0 ? s[mt] : dp[mt];
                        mma_bf16(acc[nt], a[mt], bb[0], bb[1]);
                        mma_bf16(acc[nt + 1], a[mt], bb[2], bb[3]);
                    }
                }
            }
        }
        // s[mt][nt][e], dp[mt][nt][e] are (row rows[2 mt + e / 2], key k0 + 8 nt + 2t + e % 2); dS in place of s. kb:
        // the forward's keep bits of the tile's 64 keys for each of the thread's rows
        const u64 banned = banned_tile(sBan, P, b, h, k0, lane);
        // as in the forward: a tile inside the keys, below the diagonal, that no mask touches skips the tests
        const bool edge = k0 + BN > Lk || (causal && k0 + BN - 1 > row0) || (P.mask != nullptr && (P.mi != 0 || banned != 0));
#pragma unroll
        for (int R = 0; R < 2 * MT; R++) {
            const int mt = R >> 1, r = R & 1;
            u64 kb = ~0ull;
            if (dropout && rows[R] < Lq) {
                const u32* w = sW + 2 * (rows[R] - row0);
                kb = (u64)w[0] | ((u64)w[1] << 32);
            }
#pragma unroll
            for (int nt = 0; nt < BN / 8; nt++) {
                const int key = k0 + 8 * nt + 2 * t;
#pragma unroll
                for (int c = 0; c < 2; c++) {
                    const int e = 2 * r + c;
                    bool off = edge && (key + c >= Lk || (causal && key + c > rows[R]) || ((banned >> (8 * nt + 2 * t + c)) & 1)
                                        || (P.mask != nullptr && P.mi != 0 && rows[R] < Lq && P.mask[mrow[R] + (i64)(key + c) * P.mj]));
                    float pv = off ? 0.0f : exp2_fast(s[mt][nt][e] * sl2 - lse2[R]);
                    float z = (kb >> (8 * nt + 2 * t + c)) & 1ull ? dp[mt][nt][e] * dscale : 0.0f;
                    s[mt][nt][e] = pv * (z - dd[R]);
                }
            }
        }
        // dq += dS K: k = the tile's keys
#pragma unroll
        for (int kc = 0; kc < BN / 16; kc++) {
            if (16 * kc >= nk) break;
            u32 a[MT][4];
#pragma unroll
            for (int mt = 0; mt < MT; mt++) frag_a_from_acc(a[mt], s[mt][2 * kc], s[mt][2 * kc + 1]);
#pragma unroll
            for (int dt = 0; dt < E / 8; dt += 2) {
                u32 bb[4];
                frag_b_kn<LD>(bb, sK, 16 * kc, 8 * dt, lane);
#pragma unroll
                for (int mt = 0; mt < MT; mt++) {
                    if (MT > 1 && mt >= mtN) break;
                    mma_bf16(dq[mt][dt], a[mt], bb[0], bb[1]);
                    mma_bf16(dq[mt][dt + 1], a[mt], bb[2], bb[3]);
                }
            }
        }
    }
    if (!active) return;
    const float f[2] = {(float)P.scale, (float)P.scale};
#pragma unroll
    for (int mt = 0; mt < MT; mt++) {
        if (MT > 1 && mt >= mtN) break;
        store_rows<E>(P.dq, b, h, row0 + 16 * mt, Lq, dq[mt], f, vec, bf, lane);
    }
}

extern "C" __global__ void __maxnreg__(168) flash_attn_bwd_dq_e32(const FlashParams P) { flash_bwd_dq<32, 1>(P); }
extern "C" __global__ void __maxnreg__(168) flash_attn_bwd_dq_e64(const FlashParams P) { flash_bwd_dq<64, 1>(P); }
extern "C" __global__ void __launch_bounds__(FA_MAX_THREADS) flash_attn_bwd_dq_e128(const FlashParams P) { flash_bwd_dq<128, 1>(P); }
// two m-tiles (32 queries) per warp, as flash_attn_fwd_m2_*: opt-in with it
extern "C" __global__ void __launch_bounds__(128) flash_attn_bwd_dq_m2_e32(const FlashParams P) { flash_bwd_dq<32, 2>(P); }
extern "C" __global__ void __launch_bounds__(128) flash_attn_bwd_dq_m2_e64(const FlashParams P) { flash_bwd_dq<64, 2>(P); }
