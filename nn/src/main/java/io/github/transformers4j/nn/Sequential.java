package io.github.transformers4j.nn;

import io.github.transformers4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/** Layers applied in order; children are named "0", "1", ... as in PyTorch (keys {@code 0.weight}, {@code 2.bias}). */
public class Sequential extends Layer {
    private final List<Layer> layers = new ArrayList<>();

    public Sequential(Layer... layers) {
        for (Layer l : layers) add(l);
    }

    public Sequential add(Layer layer) {
        layers.add(register(Integer.toString(layers.size()), layer));
        return this;
    }

    public Layer get(int i) {
        return layers.get(i);
    }

    public int size() {
        return layers.size();
    }

    @Override
    public Tensor forward(Tensor input) {
        Tensor x = input;
        for (Layer l : layers) x = l.forward(x);
        return x;
    }
}
