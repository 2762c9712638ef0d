/*
 * Renders API Gateway mapping templates with Apache Velocity 1.7, the engine API Gateway's templates are
 * written for, and the $input, $util and $context objects as the API Gateway developer guide documents them
 * ("Variables for data transformations for API Gateway").
 *
 * Reads batches from stdin, one line each: a JSON array of cases
 *   {"template": "...", "body": "...", "headers": {..}, "path": {..}, "querystring": {..},
 *    "context": {..nested..}, "stageVariables": {..}}
 * and answers each with one line on stdout: a JSON array of {"output": "...", "status":
 * <$context.responseOverride.status or null>, "error": <the engine's exception or null>}. One JVM renders
 * every batch until stdin closes: run it as a single-file source program,
 * `java -cp velocity-1.7.jar:commons-lang.jar:commons-collections3.jar ApiGatewayVtl.java`.
 *
 * Model choices where the guide is silent (a real API Gateway settles them):
 *  - $input.params(x) looks x up in path, query string, then headers (the guide's order); header names
 *    match case-insensitively; a parameter that is not there is the empty string.
 *  - $input.path(x) returns the JSON value as Java objects: String, Integer/Long/BigInteger for integers,
 *    Double for other numbers, Boolean, null, LinkedHashMap, ArrayList. Only `$` and `$.a.b` paths.
 *  - $util.escapeJavaScript is commons-lang 2.6 StringEscapeUtils.escapeJavaScript (' becomes \');
 *    $util.urlEncode / urlDecode are java.net.URLEncoder / URLDecoder with UTF-8.
 *  - Undefined references and failed method calls render as their literal text (Velocity's default).
 */

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.commons.lang.StringEscapeUtils;
import org.apache.velocity.VelocityContext;
import org.apache.velocity.app.VelocityEngine;
import org.apache.velocity.runtime.RuntimeConstants;

public final class ApiGatewayVtl {

    public static void main(String[] args) throws Exception {
        VelocityEngine engine = new VelocityEngine();
        engine.setProperty(RuntimeConstants.RUNTIME_LOG_LOGSYSTEM_CLASS, "org.apache.velocity.runtime.log.NullLogChute");
        engine.init();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        String line;
        while ((line = in.readLine()) != null) {
            StringBuilder answers = new StringBuilder("[");
            for (Object item : (List<?>) new Json(line).value()) {
                if (answers.length() > 1) {
                    answers.append(',');
                }
                answers.append(render(engine, (Map<?, ?>) item));
            }
            out.print(answers.append("]\n"));
            out.flush();
        }
    }

    /** One case rendered: {"output", "status", "error"} as JSON text. */
    static String render(VelocityEngine engine, Map<?, ?> c) {
        Map<String, Object> context = mutable(c.get("context"));
        Map<String, Object> responseOverride = new LinkedHashMap<>();
        responseOverride.put("header", new LinkedHashMap<String, Object>());
        context.put("responseOverride", responseOverride);
        Map<String, Object> requestOverride = new LinkedHashMap<>();
        for (String where : new String[] {"header", "path", "querystring"}) {
            requestOverride.put(where, new LinkedHashMap<String, Object>());
        }
        context.put("requestOverride", requestOverride);
        VelocityContext vtl = new VelocityContext();
        vtl.put("context", context);
        vtl.put("input", new Input(string(c.get("body")), mutable(c.get("path")), mutable(c.get("querystring")),
                                   mutable(c.get("headers"))));
        vtl.put("util", new Util());
        vtl.put("stageVariables", mutable(c.get("stageVariables")));
        StringWriter rendered = new StringWriter();
        String error = null;
        try {
            engine.evaluate(vtl, rendered, "template", string(c.get("template")));
        } catch (Exception e) {
            error = e.toString();
        }
        Object status = responseOverride.get("status");
        return "{\"output\":" + Json.quote(rendered.toString())
            + ",\"status\":" + (status == null ? "null" : Json.quote(String.valueOf(status)))
            + ",\"error\":" + (error == null ? "null" : Json.quote(error)) + "}";
    }

    static String string(Object value) {
        return value == null ? "" : value.toString();
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> mutable(Object value) {
        Map<String, Object> copy = new LinkedHashMap<>();
        if (value instanceof Map) {
            for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
                Object v = e.getValue();
                copy.put(e.getKey().toString(), v instanceof Map ? mutable(v) : v);
            }
        }
        return copy;
    }

    /** $input: the request (or integration response) payload and the method request's parameters. */
    public static final class Input {
        private final String body;
        private final Map<String, Object> params;

        Input(String body, Map<String, Object> path, Map<String, Object> querystring, Map<String, Object> header) {
            this.body = body;
            this.params = new LinkedHashMap<>();
            params.put("path", path);
            params.put("querystring", querystring);
            params.put("header", header);
        }

        public String getBody() {
            return body;
        }

        public Map<String, Object> params() {
            return params;
        }

        /** The parameter named x from the path, the query string, then the headers; "" when absent. */
        public String params(String x) {
            for (String where : new String[] {"path", "querystring"}) {
                Object v = ((Map<?, ?>) params.get(where)).get(x);
                if (v != null) {
                    return v.toString();
                }
            }
            for (Map.Entry<?, ?> e : ((Map<?, ?>) params.get("header")).entrySet()) {
                if (e.getKey().toString().equalsIgnoreCase(x)) {
                    return e.getValue().toString();
                }
            }
            return "";
        }

        /** The value at a JSONPath, as an object a template can use. */
        public Object path(String jsonPath) {
            return select(new Json(body).value(), jsonPath);
        }

        /** The value at a JSONPath, as JSON text. */
        public String json(String jsonPath) {
            return Json.write(select(new Json(body).value(), jsonPath));
        }

        static Object select(Object root, String jsonPath) {
            if (!jsonPath.equals("$") && !jsonPath.startsWith("$.")) {
                throw new IllegalArgumentException("unsupported JSONPath " + jsonPath);
            }
            Object node = root;
            if (jsonPath.length() > 1) {
                for (String name : jsonPath.substring(2).split("\\.")) {
                    node = node instanceof Map ? ((Map<?, ?>) node).get(name) : null;
                }
            }
            return node;
        }
    }

    /** $util as documented: escapeJavaScript, parseJson, urlEncode, urlDecode, base64Encode, base64Decode. */
    public static final class Util {
        public String escapeJavaScript(String s) {
            return StringEscapeUtils.escapeJavaScript(s);
        }

        public Object parseJson(String s) {
            return new Json(s).value();
        }

        public String urlEncode(String s) throws Exception {
            return URLEncoder.encode(s, "UTF-8");
        }

        public String urlDecode(String s) throws Exception {
            return URLDecoder.decode(s, "UTF-8");
        }

        public String base64Encode(String s) {
            return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
        }

        public String base64Decode(String s) {
            return new String(Base64.getDecoder().decode(s), StandardCharsets.UTF_8);
        }
    }

    /** A strict JSON reader and writer (no Java JSON library is a Debian dependency of velocity). */
    static final class Json {
        private final String s;
        private int i;

        Json(String s) {
            this.s = s;
        }

        Object value() {
            Object v = read();
            space();
            if (i != s.length()) {
                throw error("trailing text");
            }
            return v;
        }

        private RuntimeException error(String what) {
            return new IllegalArgumentException("invalid JSON at " + i + ": " + what);
        }

        private void space() {
            while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) {
                i++;
            }
        }

        private Object read() {
            space();
            if (i >= s.length()) {
                throw error("end of text");
            }
            char c = s.charAt(i);
            if (c == '{') {
                Map<String, Object> map = new LinkedHashMap<>();
                i++;
                space();
                if (s.charAt(i) == '}') {
                    i++;
                    return map;
                }
                while (true) {
                    space();
                    if (s.charAt(i) != '"') {
                        throw error("expected a key");
                    }
                    String key = text();
                    space();
                    if (s.charAt(i++) != ':') {
                        throw error("expected :");
                    }
                    map.put(key, read());
                    space();
                    char next = s.charAt(i++);
                    if (next == '}') {
                        return map;
                    }
                    if (next != ',') {
                        throw error("expected , or }");
                    }
                }
            }
            if (c == '[') {
                List<Object> list = new ArrayList<>();
                i++;
                space();
                if (s.charAt(i) == ']') {
                    i++;
                    return list;
                }
                while (true) {
                    list.add(read());
                    space();
                    char next = s.charAt(i++);
                    if (next == ']') {
                        return list;
                    }
                    if (next != ',') {
                        throw error("expected , or ]");
                    }
                }
            }
            if (c == '"') {
                return text();
            }
            for (String word : new String[] {"true", "false", "null"}) {
                if (s.startsWith(word, i)) {
                    i += word.length();
                    return word.equals("null") ? null : Boolean.valueOf(word);
                }
            }
            int start = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
                i++;
            }
            String number = s.substring(start, i);
            if (number.isEmpty()) {
                throw error("unexpected " + c);
            }
            if (number.matches("-?(0|[1-9][0-9]*)")) {
                BigInteger big = new BigInteger(number);
                if (big.bitLength() < 32) {
                    return big.intValue();
                }
                return big.bitLength() < 64 ? (Object) big.longValue() : big;
            }
            if (!number.matches("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?")) {
                throw error("bad number " + number);
            }
            return Double.valueOf(number);
        }

        private String text() {
            StringBuilder b = new StringBuilder();
            i++;
            while (true) {
                char c = s.charAt(i++);
                if (c == '"') {
                    return b.toString();
                }
                if (c < 0x20) {
                    throw error("control character in a string");
                }
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                char e = s.charAt(i++);
                switch (e) {
                    case '"': case '\\': case '/': b.append(e); break;
                    case 'b': b.append('\b'); break;
                    case 'f': b.append('\f'); break;
                    case 'n': b.append('\n'); break;
                    case 'r': b.append('\r'); break;
                    case 't': b.append('\t'); break;
                    case 'u': b.append((char) Integer.parseInt(s.substring(i, i + 4), 16)); i += 4; break;
                    default: throw error("bad escape \\" + e);
                }
            }
        }

        static String quote(String v) {
            StringBuilder b = new StringBuilder("\"");
            for (int k = 0; k < v.length(); k++) {
                char c = v.charAt(k);
                if (c == '"' || c == '\\') {
                    b.append('\\').append(c);
                } else if (c < 0x20) {
                    b.append(String.format("\\u%04x", (int) c));
                } else {
                    b.append(c);
                }
            }
            return b.append('"').toString();
        }

        static String write(Object v) {
            if (v == null) {
                return "null";
            }
            if (v instanceof String) {
                return quote((String) v);
            }
            if (v instanceof Map) {
                StringBuilder b = new StringBuilder("{");
                Iterator<? extends Map.Entry<?, ?>> it = ((Map<?, ?>) v).entrySet().iterator();
                while (it.hasNext()) {
                    Map.Entry<?, ?> e = it.next();
                    b.append(quote(e.getKey().toString())).append(':').append(write(e.getValue()));
                    if (it.hasNext()) {
                        b.append(',');
                    }
                }
                return b.append('}').toString();
            }
            if (v instanceof List) {
                StringBuilder b = new StringBuilder("[");
                Iterator<?> it = ((List<?>) v).iterator();
                while (it.hasNext()) {
                    b.append(write(it.next()));
                    if (it.hasNext()) {
                        b.append(',');
                    }
                }
                return b.append(']').toString();
            }
            return v.toString();
        }
    }
}
