package io.github.transformers4j.cli;

import io.github.transformers4j.models.ModelZoo;
import io.github.transformers4j.tensor.Random4j;
import picocli.CommandLine.Command;

@Command(name = "models", mixinStandardHelpOptions = true,
        description = "List the model presets with their parameter counts for 28x28 grey and 32x32 colour images, 10 classes.")
final class ModelsCommand implements Runnable {
    @Override
    public void run() {
        for (String name : ModelZoo.names(ModelZoo.Task.IMAGE_CLASSIFICATION)) {
            System.out.println(ModelZoo.describe(name, ModelZoo.create(name, 28, 1, 10, new Random4j(0))));
            System.out.println(ModelZoo.describe(name, ModelZoo.create(name, 32, 3, 10, new Random4j(0))));
        }
        for (String name : ModelZoo.names(ModelZoo.Task.SEQ2SEQ)) System.out.println(name + ": " + ModelZoo.preset(name).description());
    }
}
