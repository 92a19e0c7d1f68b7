package io.github.transformers4j.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;

/** An indexed list of submodules named "0", "1", ... (state-dict keys {@code layers.0.linear1.weight}). */
public class ModuleList<M extends Module> extends Module implements Iterable<M> {
    private final List<M> items = new ArrayList<>();

    public ModuleList() {}

    public ModuleList(List<? extends M> modules) {
        modules.forEach(this::add);
    }

    public ModuleList<M> add(M module) {
        items.add(register(Integer.toString(items.size()), module));
        return this;
    }

    public M get(int i) {
        return items.get(i);
    }

    public int size() {
        return items.size();
    }

    public List<M> asList() {
        return Collections.unmodifiableList(items);
    }

    @Override
    public Iterator<M> iterator() {
        return asList().iterator();
    }
}
