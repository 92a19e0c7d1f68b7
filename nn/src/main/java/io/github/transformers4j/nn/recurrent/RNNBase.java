package io.github.transformers4j.nn.recurrent;

import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.Parameter;
import io.github.transformers4j.tensor.NnOps;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The multi-layer, optionally bidirectional wrapper shared by {@link RNN}, {@link GRU} and {@link LSTM}
 * (torch.nn.RNNBase). Parameters are named as in PyTorch: {@code weight_ih_l0}, {@code weight_hh_l0},
 * {@code bias_ih_l0}, {@code bias_hh_l0}, then {@code ..._l0_reverse} when bidirectional, then layer 1.
 *
 * <p>Per layer and direction the input projection of every time step is one matmul; only the hidden projection
 * runs step by step. Layer k > 0 reads the previous layer's output (forward features then reverse features),
 * after dropout when training. States {@code h_n}/{@code c_n} are {@code (numLayers * directions, B, H)}, ordered
 * {@code l0, l0_reverse, l1, ...}, whatever {@code batchFirst} says.
 */
public abstract class RNNBase extends Module {
    /**
     * Constructor arguments with PyTorch's names and defaults ({@link #of}): 1 layer, bias, time-major input
     * {@code (L, B, in)}, no dropout, one direction.
     */
    public record Options(int inputSize, int hiddenSize, int numLayers, boolean bias, boolean batchFirst, double dropout,
            boolean bidirectional) {
        public Options {
            if (inputSize <= 0 || hiddenSize <= 0 || numLayers <= 0) {
                throw new IllegalArgumentException("recurrent layer: inputSize, hiddenSize and numLayers must be positive, got "
                        + inputSize + ", " + hiddenSize + ", " + numLayers);
            }
            if (!(dropout >= 0 && dropout <= 1)) throw new IllegalArgumentException("recurrent layer: dropout must be in [0, 1], got " + dropout);
        }

        public static Options of(int inputSize, int hiddenSize) {
            return new Options(inputSize, hiddenSize, 1, true, false, 0, false);
        }

        public Options numLayers(int n) {
            return new Options(inputSize, hiddenSize, n, bias, batchFirst, dropout, bidirectional);
        }

        public Options bias(boolean on) {
            return new Options(inputSize, hiddenSize, numLayers, on, batchFirst, dropout, bidirectional);
        }

        public Options batchFirst(boolean on) {
            return new Options(inputSize, hiddenSize, numLayers, bias, on, dropout, bidirectional);
        }

        public Options dropout(double p) {
            return new Options(inputSize, hiddenSize, numLayers, bias, batchFirst, p, bidirectional);
        }

        public Options bidirectional(boolean on) {
            return new Options(inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, on);
        }

        public int directions() {
            return bidirectional ? 2 : 1;
        }
    }

    /**
     * output: (B, L, D*H) when batchFirst, else (L, B, D*H) (unbatched input: (L, D*H)); hN (layers*D, B, H)
     * (unbatched: (layers*D, H)); cN likewise for LSTM, null otherwise.
     */
    public record Output(Tensor output, Tensor hN, Tensor cN) {}

    protected final Options options;
    private final int gates;
    private final Random4j rng;
    /** [layer * directions + direction] */
    private final Parameter[] weightIh, weightHh, biasIh, biasHh;

    RNNBase(Options options, int gates, Random4j rng) {
        this.options = options;
        this.gates = gates;
        this.rng = rng;
        int n = options.numLayers() * options.directions(), gh = gates * options.hiddenSize();
        weightIh = new Parameter[n];
        weightHh = new Parameter[n];
        biasIh = new Parameter[n];
        biasHh = new Parameter[n];
        double k = 1 / Math.sqrt(options.hiddenSize());
        for (int layer = 0; layer < options.numLayers(); layer++) {
            int in = layer == 0 ? options.inputSize() : options.hiddenSize() * options.directions();
            for (int dir = 0; dir < options.directions(); dir++) {
                String suffix = "_l" + layer + (dir == 1 ? "_reverse" : "");
                int i = layer * options.directions() + dir;
                weightIh[i] = param("weight_ih" + suffix, CellBase.uniform(rng, k, gh, in));
                weightHh[i] = param("weight_hh" + suffix, CellBase.uniform(rng, k, gh, options.hiddenSize()));
                if (options.bias()) {
                    biasIh[i] = param("bias_ih" + suffix, CellBase.uniform(rng, k, gh));
                    biasHh[i] = param("bias_hh" + suffix, CellBase.uniform(rng, k, gh));
                }
            }
        }
    }

    public Options options() {
        return options;
    }

    /** One time step of the cell: the input projection gi (B, G*H) and the state in, the new state out. */
    abstract LSTMCell.State cellStep(Tensor gi, LSTMCell.State state, Tensor wHh, Tensor bHh);

    abstract boolean hasCellState();

    /** The layer over a sequence from zero states; {@link Output#cN()} is null but for an LSTM. */
    public Output forward(Tensor input) {
        return run(input, null, null);
    }

    /**
     * The layer from given states, as PyTorch's {@code rnn(input, hx)}: h0 and (LSTM only) c0 of
     * (layers * directions, B, H), each null for zeros. Generic code calls this on any of RNN, GRU and LSTM.
     */
    public Output forward(Tensor input, Tensor h0, Tensor c0) {
        if (c0 != null && !hasCellState())
            throw new IllegalArgumentException(getClass().getSimpleName() + ": c0 " + java.util.Arrays.toString(c0.shape())
                    + " given, but only an LSTM has a cell state: pass null");
        return run(input, h0, c0);
    }

    /** The whole sequence through every layer and direction; h0 and c0 may be null (zeros). */
    Output run(Tensor input, Tensor h0, Tensor c0) {
        String name = getClass().getSimpleName();
        int in = options.inputSize(), hs = options.hiddenSize(), dirs = options.directions();
        int states = options.numLayers() * dirs;
        boolean unbatched = input.dim() == 2;
        if ((input.dim() != 2 && input.dim() != 3) || input.size(-1) != in) {
            String expected = options.batchFirst() ? "(B, L, " + in + ")" : "(L, B, " + in + ")";
            throw new IllegalArgumentException(name + ": expected input " + expected + " or (L, " + in + "), got "
                    + Arrays.toString(input.shape()));
        }
        // time-major inside: x (L, B, in)
        Tensor x = unbatched ? input.unsqueeze(1) : options.batchFirst() ? input.transpose(0, 1) : input;
        int steps = x.size(0), batch = x.size(1);
        if (steps == 0) throw new IllegalArgumentException(name + ": input has no time steps " + Arrays.toString(input.shape()));
        h0 = checkState(name, "h0", h0, states, batch, unbatched, x);
        c0 = hasCellState() ? checkState(name, "c0", c0, states, batch, unbatched, x) : null;

        List<Tensor> hN = new ArrayList<>(), cN = new ArrayList<>();
        for (int layer = 0; layer < options.numLayers(); layer++) {
            if (layer > 0 && options.dropout() > 0 && isTraining()) x = NnOps.dropout(x, options.dropout(), true, rng);
            List<Tensor> dirOutputs = new ArrayList<>(dirs);
            for (int dir = 0; dir < dirs; dir++) {
                int k = layer * dirs + dir;
                // every time step's input projection at once: (L*B, in) @ (in, G*H)
                Tensor gi = CellBase.linear(x.reshape(steps * batch, x.size(2)), weightIh[k].data(), CellBase.data(biasIh[k]))
                        .view(steps, batch, gates * hs);
                Tensor wHh = weightHh[k].data(), bHh = CellBase.data(biasHh[k]);
                LSTMCell.State s = new LSTMCell.State(h0.select(0, k), c0 == null ? null : c0.select(0, k));
                Tensor[] outs = new Tensor[steps];
                for (int i = 0; i < steps; i++) {
                    int t = dir == 0 ? i : steps - 1 - i;
                    s = cellStep(gi.select(0, t), s, wHh, bHh);
                    outs[t] = s.h();
                }
                dirOutputs.add(Tensor.stack(Arrays.asList(outs), 0)); // (L, B, H)
                hN.add(s.h());
                if (s.c() != null) cN.add(s.c());
            }
            x = dirs == 1 ? dirOutputs.get(0) : Tensor.cat(dirOutputs, 2);
        }
        Tensor hOut = Tensor.stack(hN, 0), cOut = cN.isEmpty() ? null : Tensor.stack(cN, 0);
        if (unbatched) {
            return new Output(x.squeeze(1), hOut.squeeze(1), cOut == null ? null : cOut.squeeze(1));
        }
        return new Output(options.batchFirst() ? x.transpose(0, 1) : x, hOut, cOut);
    }

    /** A state (layers*D, B, H) (unbatched: (layers*D, H)) from the caller, or zeros; returned as (layers*D, B, H). */
    private Tensor checkState(String module, String what, Tensor s, int states, int batch, boolean unbatched, Tensor x) {
        int hs = options.hiddenSize();
        if (s == null) return Tensor.full(0, x.dtype(), x.device(), states, batch, hs);
        int[] expected = unbatched ? new int[] {states, hs} : new int[] {states, batch, hs};
        if (!Arrays.equals(s.shape(), expected)) {
            throw new IllegalArgumentException(module + ": " + what + " should have shape (num_layers * num_directions, B, H) = "
                    + Arrays.toString(expected) + ", got " + Arrays.toString(s.shape()));
        }
        return unbatched ? s.unsqueeze(1) : s;
    }
}
