package io.github.transformers4j.tensor;

/**
 * Mixed precision, per thread, as {@code torch.autocast}: inside {@code try (var a = Autocast.enable(DType.BF16)) {...}}
 * the products — {@code linear}, {@code matmul} (and through it einsum and conv2d) — take F32 or already-low operands
 * rounded to the autocast type, accumulate in fp32 (cuBLASLt's fp32 compute type; on the CPU the rounded operands are
 * multiplied in fp32) and return a low result, as PyTorch's autocast does; what consumes it (GELU, dropout, the next
 * product) stays low, and an add with an fp32 tensor (a residual stream) promotes back to fp32. Softmax, layer norm,
 * the losses built on log-softmax and the fused attention ops take low inputs in fp32 ({@link #wide}); reductions
 * accumulate in double anyway. The weights stay fp32 (master copies): products read a cached low copy
 * ({@link #weightCopy}) and their gradients arrive in fp32. The fused attention ops run as flash attention with bf16
 * products where the backend offers {@code NnOps.FLASH_ATTENTION} (CUDA, head dims 32/64/128, no additive mask).
 *
 * <p>Run the backward pass outside the scope, as with PyTorch: recorded products already hold their rounded operands.
 */
public final class Autocast {
    private static final ThreadLocal<DType[]> TYPE = ThreadLocal.withInitial(() -> new DType[1]);

    private Autocast() {}

    /** Products in {@code dtype} (BF16 or F16) until the returned scope closes; null switches autocast off. */
    public static Grad.Mode enable(DType dtype) {
        if (dtype != null && dtype != DType.BF16 && dtype != DType.F16)
            throw new IllegalArgumentException("autocast: BF16 or F16, got " + dtype);
        DType[] slot = TYPE.get();
        DType before = slot[0];
        slot[0] = dtype;
        return () -> slot[0] = before;
    }

    /** The autocast type, or null when autocast is off. */
    public static DType dtype() {
        return TYPE.get()[0];
    }

    /**
     * x in fp32 when autocast is on and x is of its low type (for the ops PyTorch's autocast runs in fp32: softmax,
     * layer norm, losses, attention's softmax), else x itself. The conversion is recorded: gradients go back low.
     */
    public static Tensor wide(Tensor x) {
        return isLow(x) ? x.to(DType.F32) : x;
    }

    /** Whether autocast is on and x is of its low type. */
    public static boolean isLow(Tensor x) {
        DType low = TYPE.get()[0];
        return low != null && x.dtype() == low;
    }

    /**
     * The copy of weight {@code w} in {@code low} that products read under autocast, without autograd. A leaf (a
     * parameter) keeps its copy between uses, outside every memory scope, refreshed in place only when the weight
     * changed in place since (an optimizer step; a fused optimizer refreshes it in its own pass): a weight is cast once
     * per step, not at every use. Other tensors are converted afresh.
     */
    public static Tensor weightCopy(Tensor w, DType low) {
        if (!w.isLeaf() || !w.isContiguous()) return Elementwise.rawConvert(w, low);
        Tensor c = w.lowCopy;
        if (c == null || c.dtype() != low || c.storage.isReleased() || !c.device().equals(w.device())) {
            Tensor fresh = Memory.unscoped(() -> Tensor.empty(low, w.device(), w.shape()));
            fresh.keep();
            w.lowCopy = c = fresh;
            w.lowCopyVersion = -1;
        }
        long version = w.storage.version;
        if (w.lowCopyVersion != version) {
            w.backend().copy(w, c);
            w.lowCopyVersion = version;
        }
        return c;
    }

    /** The cached copy of leaf {@code w} when one exists (for an optimizer to refresh in its pass), else null. */
    static Tensor cachedCopy(Tensor w) {
        Tensor c = w.lowCopy;
        return c == null || c.storage.isReleased() || !c.device().equals(w.device()) ? null : c;
    }

    /** Marks the cached copy of {@code w} as current after an optimizer wrote both in one pass. */
    static void markFresh(Tensor w) {
        w.lowCopyVersion = w.storage.version;
    }

    /**
     * The CLI's {@code --precision}: {@code fp32} (null: autocast off) or {@code bf16}. fp16 training would need loss
     * scaling (its 5-bit exponent underflows small gradients), which this library does not do.
     */
    public static DType parse(String precision) {
        return switch (precision) {
            case "fp32" -> null;
            case "bf16" -> DType.BF16;
            default -> throw new IllegalArgumentException("--precision must be fp32 or bf16, got '" + precision + "'");
        };
    }
}
