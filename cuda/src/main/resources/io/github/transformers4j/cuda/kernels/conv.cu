// im2col and col2im (its backward): x [N, C, H, W] <-> cols [N, C*kh*kw, OH*OW], zero padding, dilation (dh, dw).
// col2im gathers (thread per x element, no atomics): deterministic.
#include "common.cuh"

// Thread per cols element.
extern "C" __global__ void im2col(const void* x, int dt, int N, int C, int H, int W, int kh, int kw, int sh, int sw,
                                  int ph, int pw, int dh, int dw, int OH, int OW, void* cols) {
    i64 total = (i64)N * C * kh * kw * OH * OW;
    FOR_EACH(e, total) {
        i64 r = e;
        int ox = (int)(r % OW); r /= OW;
        int oy = (int)(r % OH); r /= OH;
        int kj = (int)(r % kw); r /= kw;
        int ki = (int)(r % kh); r /= kh;  // r = img * C + ch
        int iy = oy * sh - ph + ki * dh, ix = ox * sw - pw + kj * dw;
        double v = iy >= 0 && iy < H && ix >= 0 && ix < W ? load_d(x, dt, (r * H + iy) * W + ix) : 0.0;
        store_d(cols, dt, e, v);
    }
}

// x += col2im(cols): thread per x element (img, ch, iy, ix), summing every (ki, kj) whose window covers it.
extern "C" __global__ void col2im(const void* cols, int dt, int N, int C, int H, int W, int kh, int kw, int sh, int sw,
                                  int ph, int pw, int dh, int dw, int OH, int OW, void* x) {
    i64 total = (i64)N * C * H * W;
    FOR_EACH(e, total) {
        i64 r = e;
        int ix = (int)(r % W); r /= W;
        int iy = (int)(r % H); r /= H;  // r = img * C + ch
        double acc = load_d(x, dt, e);
        for (int ki = 0; ki < kh; ki++) {
            int ty = iy + ph - ki * dh;
            if (ty < 0 || ty % sh != 0) continue;
            int oy = ty / sh;
            if (oy >= OH) continue;
            for (int kj = 0; kj < kw; kj++) {
                int tx = ix + pw - kj * dw;
                if (tx < 0 || tx % sw != 0) continue;
                int ox = tx / sw;
                if (ox >= OW) continue;
                acc += load_d(cols, dt, ((r * kh + ki) * kw + kj) * (i64)OH * OW + (i64)oy * OW + ox);
            }
        }
        store_d(x, dt, e, acc);
    }
}
