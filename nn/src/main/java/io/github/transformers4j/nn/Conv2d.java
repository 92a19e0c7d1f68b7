package io.github.transformers4j.nn;

import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.nn.init.Init;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;

/**
 * 2-D convolution as torch.nn.Conv2d with a square kernel, stride and padding (zeros), no dilation or groups:
 * {@code weight} (out, in, k, k), {@code bias} (out). Initialised like PyTorch (kaiming_uniform(a = sqrt(5)), bias
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in * k * k).
 */
public class Conv2d extends Layer {
    public final int inChannels, outChannels, kernelSize, stride, padding;
    public final Parameter weight, bias;

    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride, int padding) {
        this(inChannels, outChannels, kernelSize, stride, padding, true, Random4j.global());
    }

    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride, int padding, boolean bias, Random4j rng) {
        if (inChannels < 1 || outChannels < 1 || kernelSize < 1 || stride < 1 || padding < 0) {
            throw new IllegalArgumentException("Conv2d: invalid configuration in " + inChannels + ", out " + outChannels + ", kernel "
                    + kernelSize + ", stride " + stride + ", padding " + padding);
        }
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernelSize = kernelSize;
        this.stride = stride;
        this.padding = padding;
        this.weight = param("weight", Tensor.zeros(outChannels, inChannels, kernelSize, kernelSize));
        this.bias = bias ? param("bias", Tensor.zeros(outChannels)) : null;
        Init.kaimingUniform_(weight.data(), Math.sqrt(5), rng);
        if (this.bias != null) Init.fanInUniform_(this.bias.data(), weight.shape(), rng);
    }

    /** (N, C, H, W) -> (N, out, (H + 2p - k) / s + 1, (W + 2p - k) / s + 1). */
    @Override
    public Tensor forward(Tensor input) {
        return F.conv2d(input, weight.data(), bias == null ? null : bias.data(), stride, padding);
    }
}
