package io.github.transformers4j.nn;

import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.nn.init.Init;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.Arrays;

/**
 * 2-D convolution as torch.nn.Conv2d (zero padding): {@code weight} (out, in / groups, kh, kw), {@code bias} (out).
 * Kernel, stride, padding and dilation are (height, width) pairs; groups split the channels into blocks that see only
 * each other. Input (N, in, H, W), output (N, out, OH, OW) with OH = (H + 2 padding[0] - dilation[0] (kh - 1) - 1) /
 * stride[0] + 1 (OW likewise). Initialised like PyTorch: kaiming_uniform(a = sqrt(5)), bias U(-1/sqrt(fan_in),
 * 1/sqrt(fan_in)) with fan_in = in / groups * kh * kw.
 */
public class Conv2d extends Layer {
    public final int inChannels, outChannels, groups;
    /** (height, width) pairs. */
    public final int[] kernelSize, stride, padding, dilation;
    public final Parameter weight, bias;

    /** PyTorch's {@code nn.Conv2d(in, out, kernel_size)}: stride 1, no padding. */
    public Conv2d(int inChannels, int outChannels, int kernelSize) {
        this(inChannels, outChannels, kernelSize, 1, 0);
    }

    /** PyTorch's {@code nn.Conv2d(in, out, kernel_size, stride, padding)} with square kernel, stride and padding. */
    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride, int padding) {
        this(inChannels, outChannels, kernelSize, stride, padding, true, Random4j.global());
    }

    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride, int padding, boolean bias, Random4j rng) {
        this(inChannels, outChannels, pair(kernelSize), pair(stride), pair(padding), pair(1), 1, bias, rng);
    }

    /** PyTorch's {@code nn.Conv2d(in, out, kernel_size, stride, padding, dilation, groups, bias)} with (height, width) pairs. */
    public Conv2d(int inChannels, int outChannels, int[] kernelSize, int[] stride, int[] padding, int[] dilation, int groups,
            boolean bias, Random4j rng) {
        boolean pairs = kernelSize.length == 2 && stride.length == 2 && padding.length == 2 && dilation.length == 2;
        if (inChannels < 1 || outChannels < 1 || !pairs || kernelSize[0] < 1 || kernelSize[1] < 1 || stride[0] < 1 || stride[1] < 1
                || padding[0] < 0 || padding[1] < 0 || dilation[0] < 1 || dilation[1] < 1 || groups < 1
                || inChannels % groups != 0 || outChannels % groups != 0) {
            throw new IllegalArgumentException("Conv2d: invalid configuration in " + inChannels + ", out " + outChannels + ", kernel "
                    + Arrays.toString(kernelSize) + ", stride " + Arrays.toString(stride) + ", padding " + Arrays.toString(padding)
                    + ", dilation " + Arrays.toString(dilation) + ", groups " + groups
                    + " (pairs of sizes >= 1, padding >= 0, groups dividing in and out)");
        }
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernelSize = kernelSize.clone();
        this.stride = stride.clone();
        this.padding = padding.clone();
        this.dilation = dilation.clone();
        this.groups = groups;
        this.weight = param("weight", Tensor.zeros(outChannels, inChannels / groups, kernelSize[0], kernelSize[1]));
        this.bias = bias ? param("bias", Tensor.zeros(outChannels)) : null;
        Init.kaimingUniform_(weight.data(), Math.sqrt(5), rng);
        if (this.bias != null) Init.fanInUniform_(this.bias.data(), weight.shape(), rng);
    }

    private static int[] pair(int v) {
        return new int[] {v, v};
    }

    /** (N, in, H, W) -> (N, out, OH, OW). */
    @Override
    public Tensor forward(Tensor input) {
        return F.conv2d(input, weight.data(), bias == null ? null : bias.data(), stride, padding, dilation, groups);
    }
}
