package io.github.transformers4j.data.text;

import java.io.IOException;
import java.io.Reader;
import java.util.ArrayList;
import java.util.List;

/** A small RFC 4180 reader: comma-separated, fields optionally in double quotes ("" inside quotes is a quote), CRLF or LF. */
final class Csv {
    private Csv() {}

    static List<List<String>> parse(Reader r, String source) throws IOException {
        List<List<String>> rows = new ArrayList<>();
        List<String> row = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false, any = false;
        int c, line = 1;
        while ((c = r.read()) != -1) {
            any = true;
            if (quoted) {
                if (c == '"') {
                    r.mark(1);
                    int n = r.read();
                    if (n == '"') field.append('"');
                    else {
                        quoted = false;
                        if (n != -1) {
                            if (n != ',' && n != '\n' && n != '\r')
                                throw new IllegalArgumentException(source + ":" + line + ": unexpected '" + (char) n + "' after a closing quote");
                            c = n;
                        } else break;
                    } 
                    if (quoted || n == '"') continue;
                } else {
                    if (c == '\n') line++;
                    field.append((char) c);
                    continue;
                }
            }
            if (c == '"' && field.isEmpty()) quoted = true;
            else if (c == ',') {
                row.add(field.toString());
                field.setLength(0);
            } else if (c == '\n' || c == '\r') {
                if (c == '\r') {
                    r.mark(1);
                    if (r.read() != '\n') r.reset();
                }
                row.add(field.toString());
                field.setLength(0);
                rows.add(row);
                row = new ArrayList<>();
                line++;
                any = false;
            } else field.append((char) c);
        }
        if (quoted) throw new IllegalArgumentException(source + ": a quoted field is not closed at the end of the input");
        if (any || !field.isEmpty() || !row.isEmpty()) {
            row.add(field.toString());
            rows.add(row);
        }
        return rows;
    }
}
