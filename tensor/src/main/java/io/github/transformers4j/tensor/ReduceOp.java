package io.github.transformers4j.tensor;

public enum ReduceOp { SUM, MAX, MIN, ARGMAX, ARGMIN }
