package io.github.transformers4j.data.text.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The post-processors of tokenizer.json ({@code "post_processor"}), which add special tokens around one sequence when
 * special tokens are requested: TemplateProcessing, BertProcessing ([CLS] A [SEP]), RobertaProcessing (&lt;s&gt; A
 * &lt;/s&gt;), ByteLevel (no change to the ids) and Sequence; for one sequence or a pair (with token type ids).
 */
public sealed interface PostProcessor {
    int[] process(int[] ids);

    /** Ids with their token type (segment) ids. */
    record Pair(int[] ids, int[] typeIds) {
        static Pair concat(int[] a, int[] b) {
            int[] ids = new int[a.length + b.length], types = new int[ids.length];
            System.arraycopy(a, 0, ids, 0, a.length);
            System.arraycopy(b, 0, ids, a.length, b.length);
            java.util.Arrays.fill(types, a.length, types.length, 1);
            return new Pair(ids, types);
        }
    }

    /** A pair of sequences with the special tokens of the pair template; plain concatenation (types 0 then 1) by default. */
    default Pair processPair(int[] a, int[] b) {
        return Pair.concat(a, b);
    }

    ObjectNode toJson();

    JsonNodeFactory F = JsonNodeFactory.instance;

    static PostProcessor fromJson(JsonNode n) {
        if (n == null || n.isNull()) return null;
        String type = n.path("type").asText();
        return switch (type) {
            case "TemplateProcessing" -> Template.fromJson(n);
            case "BertProcessing", "RobertaProcessing" -> new Wrap(type, n.path("cls").get(0).asText(), n.path("cls").get(1).asInt(),
                    n.path("sep").get(0).asText(), n.path("sep").get(1).asInt(), n);
            case "ByteLevel" -> new Passthrough(n);
            case "Sequence" -> {
                List<PostProcessor> list = new ArrayList<>();
                for (JsonNode c : n.path("processors")) list.add(fromJson(c));
                yield new Sequence(list);
            }
            default -> throw new IllegalArgumentException("tokenizer.json: unknown post_processor type '" + type + "'");
        };
    }

    /**
     * A template such as {@code $A </s>}: items are the sequence or special tokens (each may stand for several ids).
     *
     * @param single items: "$A" for the sequence, otherwise a special token name
     */
    record Template(List<String> single, Map<String, int[]> specialIds, Map<String, List<String>> specialTokens, JsonNode pair)
            implements PostProcessor {
        /** A template {@code [prefix...] $A [suffix...]} over special tokens of one id each. */
        public static Template of(List<String> single, Map<String, Integer> specials) {
            Map<String, int[]> ids = new LinkedHashMap<>();
            Map<String, List<String>> toks = new LinkedHashMap<>();
            specials.forEach((k, v) -> {
                ids.put(k, new int[] {v});
                toks.put(k, List.of(k));
            });
            return new Template(single, ids, toks, null);
        }

        static Template fromJson(JsonNode n) {
            List<String> single = new ArrayList<>();
            for (JsonNode item : n.path("single")) {
                if (item.has("Sequence")) single.add("$" + item.get("Sequence").path("id").asText("A"));
                else single.add(item.path("SpecialToken").path("id").asText());
            }
            Map<String, int[]> ids = new LinkedHashMap<>();
            Map<String, List<String>> toks = new LinkedHashMap<>();
            n.path("special_tokens").fields().forEachRemaining(e -> {
                JsonNode v = e.getValue();
                int[] a = new int[v.path("ids").size()];
                for (int i = 0; i < a.length; i++) a[i] = v.path("ids").get(i).asInt();
                List<String> t = new ArrayList<>();
                v.path("tokens").forEach(x -> t.add(x.asText()));
                ids.put(e.getKey(), a);
                toks.put(e.getKey(), t);
            });
            return new Template(single, ids, toks, n.get("pair"));
        }

        @Override
        public Pair processPair(int[] a, int[] b) {
            if (pair == null || !pair.isArray()) throw new IllegalArgumentException("TemplateProcessing: no \"pair\" template for two sequences");
            List<Integer> ids = new ArrayList<>(), types = new ArrayList<>();
            for (JsonNode item : pair) {
                JsonNode seqItem = item.get("Sequence"), special = item.get("SpecialToken");
                if (seqItem != null) {
                    int type = seqItem.path("type_id").asInt(0);
                    for (int id : seqItem.path("id").asText("A").equals("B") ? b : a) {
                        ids.add(id);
                        types.add(type);
                    }
                } else {
                    int[] sp = specialIds.get(special.path("id").asText());
                    if (sp == null) throw new IllegalArgumentException("TemplateProcessing: special token '" + special.path("id").asText() + "' has no ids");
                    for (int id : sp) {
                        ids.add(id);
                        types.add(special.path("type_id").asInt(0));
                    }
                }
            }
            return new Pair(ids.stream().mapToInt(Integer::intValue).toArray(), types.stream().mapToInt(Integer::intValue).toArray());
        }

        public int[] process(int[] seq) {
            List<Integer> out = new ArrayList<>();
            for (String item : single) {
                if (item.startsWith("$")) for (int id : seq) out.add(id);
                else {
                    int[] ids = specialIds.get(item);
                    if (ids == null) throw new IllegalArgumentException("TemplateProcessing: special token '" + item + "' has no ids");
                    for (int id : ids) out.add(id);
                }
            }
            return out.stream().mapToInt(Integer::intValue).toArray();
        }

        public ObjectNode toJson() {
            ObjectNode o = F.objectNode();
            o.put("type", "TemplateProcessing");
            o.set("single", items(single, 0));
            if (pair != null) o.set("pair", pair);
            else {
                List<String> p = new ArrayList<>(single);
                p.addAll(single.stream().map(s -> s.equals("$A") ? "$B" : s).toList());
                o.set("pair", items(p, -1));
            }
            ObjectNode sp = o.putObject("special_tokens");
            specialIds.forEach((k, v) -> {
                ObjectNode e = sp.putObject(k);
                e.put("id", k);
                ArrayNode ids = e.putArray("ids");
                for (int i : v) ids.add(i);
                ArrayNode t = e.putArray("tokens");
                specialTokens.get(k).forEach(t::add);
            });
            return o;
        }

        private static ArrayNode items(List<String> items, int pairSplit) {
            ArrayNode a = F.arrayNode();
            boolean second = false;
            for (String s : items) {
                if (s.startsWith("$")) {
                    second = s.equals("$B");
                    a.addObject().putObject("Sequence").put("id", s.substring(1)).put("type_id", second ? 1 : 0);
                } else a.addObject().putObject("SpecialToken").put("id", s).put("type_id", second && pairSplit < 0 ? 1 : 0);
            }
            return a;
        }
    }

    /** BertProcessing / RobertaProcessing: cls + sequence + sep; pairs: cls A sep B sep (BERT), cls A sep sep B sep (RoBERTa, types 0). */
    record Wrap(String type, String cls, int clsId, String sep, int sepId, JsonNode json) implements PostProcessor {
        @Override
        public Pair processPair(int[] a, int[] b) {
            boolean roberta = type.equals("RobertaProcessing");
            int n = a.length + b.length + (roberta ? 4 : 3), k = 0;
            int[] ids = new int[n], types = new int[n];
            ids[k++] = clsId;
            for (int id : a) ids[k++] = id;
            ids[k++] = sepId;
            if (roberta) ids[k++] = sepId;
            int secondStart = k;
            for (int id : b) ids[k++] = id;
            ids[k] = sepId;
            if (!roberta) java.util.Arrays.fill(types, secondStart, n, 1);
            return new Pair(ids, types);
        }

        public int[] process(int[] seq) {
            int[] out = new int[seq.length + 2];
            out[0] = clsId;
            System.arraycopy(seq, 0, out, 1, seq.length);
            out[out.length - 1] = sepId;
            return out;
        }

        public ObjectNode toJson() {
            return (ObjectNode) json;
        }
    }

    record Passthrough(JsonNode json) implements PostProcessor {
        public int[] process(int[] ids) {
            return ids;
        }

        public ObjectNode toJson() {
            return (ObjectNode) json;
        }
    }

    record Sequence(List<PostProcessor> processors) implements PostProcessor {
        /** The pair through the first processor that adds tokens (the others, ByteLevel, change no ids). */
        @Override
        public Pair processPair(int[] a, int[] b) {
            for (PostProcessor p : processors) if (!(p instanceof Passthrough)) return p.processPair(a, b);
            return Pair.concat(a, b);
        }

        public int[] process(int[] ids) {
            for (PostProcessor p : processors) ids = p.process(ids);
            return ids;
        }

        public ObjectNode toJson() {
            ObjectNode o = F.objectNode();
            o.put("type", "Sequence");
            ArrayNode a = o.putArray("processors");
            processors.forEach(p -> a.add(p.toJson()));
            return o;
        }
    }
}
