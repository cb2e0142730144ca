package ai.finops.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** One connection of the simulator: records each request and plays its reply. */
final class SimulatorHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String BASH_INPUT = "{\"command\":\"echo hello from the FinOps simulator\",\"description\":\"Print a greeting\"}";

    private final Simulator sim;
    private Stream active;

    SimulatorHandler(Simulator sim) {
        this.sim = sim;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        byte[] body = ByteBufUtil.getBytes(request.content());
        HttpHeaders headers = new DefaultHttpHeaders().add(request.headers());
        String uri = request.uri();
        String path = uri.contains("?") ? uri.substring(0, uri.indexOf('?')) : uri;
        String requestId = "req_sim_" + sim.requestIds.incrementAndGet();
        if (path.startsWith("/model/")) {
            bedrock(ctx, request, headers, uri, path, body, requestId);
            return;
        }
        if (path.equals("/token")) {
            token(ctx, body);
            return;
        }
        if (path.startsWith("/v1/projects/")) {
            vertex(ctx, request, headers, uri, path, body, requestId);
            return;
        }
        if (path.endsWith("/chat/completions")) {
            openai(ctx, request, headers, uri, path, body, requestId);
            return;
        }
        // Claude on Microsoft Foundry: the Messages API under /anthropic, the key in api-key
        boolean foundry = path.startsWith("/anthropic/");
        if (foundry) {
            path = path.substring("/anthropic".length());
        }
        if (foundry ? !foundryAuthorized(headers) : !authorized(headers)) {
            sim.record(new RecordedRequest(request.method().name(), uri, headers, body));
            json(ctx, 401, MessageScript.error("authentication_error", "invalid x-api-key"), requestId, null);
            return;
        }
        if (request.method().equals(HttpMethod.GET) && path.equals("/v1/models")) {
            json(ctx, 200, "{\"data\":[{\"type\":\"model\",\"id\":\"claude-sonnet-4-6\",\"display_name\":\"Claude Sonnet 4.6\","
                    + "\"created_at\":\"2026-01-01T00:00:00Z\"}],\"has_more\":false,\"first_id\":\"claude-sonnet-4-6\",\"last_id\":\"claude-sonnet-4-6\"}",
                    requestId, null);
            return;
        }
        if (!request.method().equals(HttpMethod.POST) || !(path.equals("/v1/messages") || path.equals("/v1/messages/count_tokens"))) {
            json(ctx, 404, MessageScript.error("not_found_error", "Not found: " + request.method() + " " + path), requestId, null);
            return;
        }
        sim.record(new RecordedRequest(request.method().name(), uri, headers, body));
        JsonNode parsed;
        try {
            parsed = JSON.readTree(body);
        } catch (Exception e) {
            parsed = null;
        }
        if (parsed == null || !parsed.isObject()) {
            json(ctx, 400, MessageScript.error("invalid_request_error", "There was an issue with the format or content of your request."),
                    requestId, null);
            return;
        }
        if (path.endsWith("/count_tokens")) {
            json(ctx, 200, "{\"input_tokens\":" + Math.max(1, body.length / 4) + "}", requestId, null);
            return;
        }
        String foreign = foreignSignature(parsed, "anthropic");
        if (foreign != null) {
            json(ctx, 400, MessageScript.error("invalid_request_error", foreign), requestId, null);
            return;
        }
        Reply reply = sim.script.poll();
        if (reply == null) {
            reply = sim.defaultReply != null ? sim.defaultReply : builtIn(parsed);
        }
        Duration delay = reply.delay != null ? reply.delay : sim.options().latency();
        boolean stream = parsed.path("stream").asBoolean(false);
        String model = parsed.path("model").asText("unknown");
        Reply chosen = reply;
        Runnable play = () -> play(ctx, chosen, stream, model, body.length, requestId, false);
        if (delay.isZero()) {
            play.run();
        } else {
            ctx.executor().schedule(play, delay.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    // ---- Vertex AI: OAuth token endpoint, rawPredict / streamRawPredict -------------------------

    private static final java.util.regex.Pattern VERTEX_PATH = java.util.regex.Pattern.compile(
            "/v1/projects/([^/]+)/locations/([^/]+)/publishers/anthropic/models/([^/:]+):(rawPredict|streamRawPredict)");

    /** The OAuth 2.0 JWT-bearer grant, as Google's token endpoint serves it to service accounts. */
    private void token(ChannelHandlerContext ctx, byte[] body) {
        SimulatorOptions.GoogleAccount account = sim.options().google();
        java.util.Map<String, String> form = new java.util.HashMap<>();
        for (String pair : new String(body, StandardCharsets.UTF_8).split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                form.put(pair.substring(0, eq), java.net.URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        String problem = account == null ? "no service account configured" : jwtProblem(form, account);
        if (problem != null) {
            json(ctx, 400, "{\"error\":\"invalid_grant\",\"error_description\":\"" + problem + "\"}", null, null);
            return;
        }
        String token = "ya29.sim-" + sim.requestIds.incrementAndGet() + "-" + Long.toHexString(System.nanoTime());
        sim.issuedTokens.put(token, System.currentTimeMillis() + account.tokenLifetime().toMillis());
        json(ctx, 200, "{\"access_token\":\"" + token + "\",\"expires_in\":" + account.tokenLifetime().toSeconds()
                + ",\"token_type\":\"Bearer\"}", null, null);
    }

    private static String jwtProblem(java.util.Map<String, String> form, SimulatorOptions.GoogleAccount account) {
        if (!"urn:ietf:params:oauth:grant-type:jwt-bearer".equals(form.get("grant_type")) || form.get("assertion") == null) {
            return "unsupported grant";
        }
        String[] parts = form.get("assertion").split("\\.");
        if (parts.length != 3) {
            return "malformed assertion";
        }
        try {
            java.security.Signature rsa = java.security.Signature.getInstance("SHA256withRSA");
            rsa.initVerify(account.publicKey());
            rsa.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
            if (!rsa.verify(java.util.Base64.getUrlDecoder().decode(parts[2]))) {
                return "invalid JWT signature";
            }
            JsonNode claims = JSON.readTree(java.util.Base64.getUrlDecoder().decode(parts[1]));
            if (!account.clientEmail().equals(claims.path("iss").asText())) {
                return "unknown issuer";
            }
            if (!claims.path("scope").asText().contains("https://www.googleapis.com/auth/cloud-platform")) {
                return "missing scope";
            }
            if (claims.path("exp").asLong() * 1000 < System.currentTimeMillis()) {
                return "expired assertion";
            }
        } catch (Exception e) {
            return "bad assertion: " + e.getMessage();
        }
        return null;
    }

    private void vertex(ChannelHandlerContext ctx, FullHttpRequest request, HttpHeaders headers, String uri, String path, byte[] body,
            String requestId) {
        sim.record(new RecordedRequest(request.method().name(), uri, headers, body));
        java.util.regex.Matcher m = VERTEX_PATH.matcher(path);
        if (!request.method().equals(HttpMethod.POST) || !m.matches()) {
            googleError(ctx, 404, "NOT_FOUND", "The requested URL " + path + " was not found on this server.");
            return;
        }
        String auth = headers.get(HttpHeaderNames.AUTHORIZATION);
        Long expiry = auth != null && auth.startsWith("Bearer ") ? sim.issuedTokens.get(auth.substring(7)) : null;
        if (expiry == null || expiry < System.currentTimeMillis()) {
            googleError(ctx, 401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token.");
            return;
        }
        JsonNode parsed;
        try {
            parsed = JSON.readTree(body);
        } catch (Exception e) {
            parsed = null;
        }
        String model = java.net.URLDecoder.decode(m.group(3), StandardCharsets.UTF_8);
        boolean countTokens = model.equals("count-tokens");
        String invalid = vertexInvalid(parsed, headers, countTokens);
        if (invalid != null) {
            json(ctx, 400, MessageScript.error("invalid_request_error", invalid), requestId, null);
            return;
        }
        if (countTokens) {
            json(ctx, 200, "{\"input_tokens\":" + Math.max(1, body.length / 4) + "}", requestId, null);
            return;
        }
        boolean stream = parsed.path("stream").asBoolean(false);
        if (stream != m.group(4).equals("streamRawPredict")) {
            json(ctx, 400, MessageScript.error("invalid_request_error", "stream must match the method " + m.group(4)), requestId, null);
            return;
        }
        Reply reply = sim.script.poll();
        if (reply == null) {
            reply = sim.defaultReply != null ? sim.defaultReply : builtIn(parsed);
        }
        if (reply.kind == Reply.Kind.STATUS && reply.status == 429) {
            googleError(ctx, 429, "RESOURCE_EXHAUSTED", reply.text);
            return;
        }
        Reply chosen = reply;
        play(ctx, chosen, stream, model, body.length, requestId, false);
    }

    /** What Vertex would reject in a Claude body, or null. */
    private static String vertexInvalid(JsonNode body, HttpHeaders headers, boolean countTokens) {
        if (body == null || !body.isObject()) {
            return "There was an issue with the format or content of your request.";
        }
        String foreign = foreignSignature(body, "vertex");
        if (foreign != null) {
            return foreign;
        }
        if (!"vertex-2023-10-16".equals(body.path("anthropic_version").asText(null))) {
            return "anthropic_version: must be vertex-2023-10-16, got " + body.path("anthropic_version");
        }
        if (body.has("model") != countTokens) {
            return countTokens ? "model: Field required" : "model: Extra inputs are not permitted (the model is in the URL)";
        }
        String betas = headers.get("anthropic-beta");
        if (betas != null) {
            for (String beta : betas.split(",")) {
                if (!BEDROCK_BETAS.contains(beta.trim())) {
                    return "invalid beta flag: " + beta.trim();
                }
            }
        }
        for (JsonNode message : body.path("messages")) {
            if (!java.util.Set.of("user", "assistant").contains(message.path("role").asText())) {
                return "messages: Input tag '" + message.path("role").asText() + "' found using 'role' does not match any of the expected tags: 'user', 'assistant'";
            }
        }
        for (JsonNode tool : body.path("tools")) {
            if (tool.has("defer_loading")) {
                return "tools.defer_loading: Extra inputs are not permitted";
            }
        }
        return null;
    }

    private void googleError(ChannelHandlerContext ctx, int status, String googleStatus, String message) {
        ObjectNode error = JSON.createObjectNode();
        error.putObject("error").put("code", status).put("message", message).put("status", googleStatus);
        json(ctx, status, error.toString(), null, null);
    }

    // ---- OpenAI Chat Completions (openai, openai-compatible, azure-openai) -------------------------

    private static final java.util.regex.Pattern AZURE_OPENAI_PATH = java.util.regex.Pattern.compile("/openai/deployments/([^/]+)/chat/completions");

    private void openai(ChannelHandlerContext ctx, FullHttpRequest request, HttpHeaders headers, String uri, String path, byte[] body,
            String requestId) {
        sim.record(new RecordedRequest(request.method().name(), uri, headers, body));
        java.util.regex.Matcher azure = AZURE_OPENAI_PATH.matcher(path);
        boolean isAzure = azure.matches();
        String required = sim.options().requiredApiKey();
        boolean authorized = required == null || (isAzure ? required.equals(headers.get("api-key"))
                : ("Bearer " + required).equals(headers.get(HttpHeaderNames.AUTHORIZATION)));
        if (!authorized) {
            json(ctx, 401, OpenAiScript.error(401, "Incorrect API key provided."), null, null);
            return;
        }
        if (isAzure && !uri.contains("api-version=")) {
            json(ctx, 404, OpenAiScript.error(404, "Resource not found"), null, null);
            return;
        }
        JsonNode parsed;
        try {
            parsed = JSON.readTree(body);
        } catch (Exception e) {
            parsed = null;
        }
        String invalid = OpenAiScript.invalid(parsed, isAzure);
        if (invalid != null) {
            json(ctx, 400, OpenAiScript.error(400, invalid), null, null);
            return;
        }
        Reply reply = sim.script.poll();
        if (reply == null) {
            reply = sim.defaultReply != null ? sim.defaultReply : OpenAiScript.builtIn(parsed);
        }
        String model = isAzure ? java.net.URLDecoder.decode(azure.group(1), StandardCharsets.UTF_8) : parsed.path("model").asText();
        OpenAiScript script = new OpenAiScript(reply, model, body.length);
        boolean stream = parsed.path("stream").asBoolean(false);
        switch (reply.kind) {
            case STATUS -> {
                json(ctx, reply.status == 529 ? 503 : reply.status, OpenAiScript.error(reply.status, reply.text), null, reply.retryAfter);
                return;
            }
            case RESET_BEFORE_FIRST_BYTE -> {
                reset(ctx);
                return;
            }
            default -> { }
        }
        if (!stream) {
            json(ctx, 200, script.completion(), null, null);
            return;
        }
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8").set("x-request-id", requestId);
        HttpUtil.setTransferEncodingChunked(head, true);
        write(ctx, head);
        List<String> chunks = script.chunks(isAzure);
        Runnable end = () -> ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        if (reply.kind == Reply.Kind.END_WITHOUT_MESSAGE_STOP) {
            chunks = chunks.subList(0, 3);
        } else if (reply.kind == Reply.Kind.MALFORMED_SSE_AFTER_FIRST_BYTE) {
            chunks = new java.util.ArrayList<>(chunks.subList(0, 3));
            chunks.add("data: {\"id\":\"x\",\"choices\":[{\"delta\":{\"content\n\n");
        }
        active = new Stream(ctx, chunks.stream().map(c -> c.getBytes(StandardCharsets.UTF_8)).iterator(), 0, end);
        active.pump();
    }

    private boolean foundryAuthorized(HttpHeaders headers) {
        String required = sim.options().requiredApiKey();
        return required == null || required.equals(headers.get("api-key"));
    }

    // ---- Bedrock: InvokeModel / InvokeModelWithResponseStream --------------------------------

    private static final java.util.regex.Pattern BEDROCK_PATH = java.util.regex.Pattern.compile("/model/([^/]+)/(invoke|invoke-with-response-stream|count-tokens)");
    /**
     * The anthropic_beta values this Bedrock (and Vertex) accepts. It lacks one that the gateway's feature
     * table lists ({@code computer-use-2025-11-24}), as a region or model may: the gateway must recover.
     */
    static final java.util.Set<String> BEDROCK_BETAS = java.util.Set.of("interleaved-thinking-2025-05-14", "context-management-2025-06-27",
            "effort-2025-11-24", "token-efficient-tools-2025-02-19", "fine-grained-tool-streaming-2025-05-14", "output-128k-2025-02-19",
            "context-1m-2025-08-07", "computer-use-2025-01-24", "tool-search-tool-2025-10-19", "tool-examples-2025-10-29");
    /** Top-level fields of a Bedrock Claude body. */
    static final java.util.Set<String> BEDROCK_FIELDS = java.util.Set.of("anthropic_version", "anthropic_beta", "messages", "system", "max_tokens",
            "temperature", "top_p", "top_k", "stop_sequences", "tools", "tool_choice", "thinking", "metadata", "context_management", "output_config");

    private void bedrock(ChannelHandlerContext ctx, FullHttpRequest request, HttpHeaders headers, String uri, String path, byte[] body,
            String requestId) {
        sim.record(new RecordedRequest(request.method().name(), uri, headers, body));
        java.util.regex.Matcher m = BEDROCK_PATH.matcher(path);
        if (!request.method().equals(HttpMethod.POST) || !m.matches()) {
            bedrockError(ctx, 404, "UnknownOperationException", "Unknown operation " + request.method() + " " + path, requestId);
            return;
        }
        String denied = awsDenied(request, headers, uri, body);
        if (denied != null) {
            bedrockError(ctx, 403, "InvalidSignatureException", denied, requestId);
            return;
        }
        String model = java.net.URLDecoder.decode(m.group(1), StandardCharsets.UTF_8);
        JsonNode parsed;
        try {
            parsed = JSON.readTree(body);
        } catch (Exception e) {
            parsed = null;
        }
        if (m.group(2).equals("count-tokens")) {
            // CountTokens: the InvokeModel body it counts, base64 in input.invokeModel.body
            String encoded = parsed == null ? null : parsed.path("input").path("invokeModel").path("body").asText(null);
            try {
                parsed = encoded == null ? null : JSON.readTree(java.util.Base64.getDecoder().decode(encoded));
            } catch (Exception e) {
                parsed = null;
            }
            String invalid = parsed == null ? "input.invokeModel.body: required, a base64 InvokeModel body" : bedrockInvalid(parsed);
            if (invalid != null) {
                bedrockError(ctx, 400, "ValidationException", invalid, requestId);
                return;
            }
            json(ctx, 200, "{\"inputTokens\":" + Math.max(1, parsed.toString().length() / 4) + "}", null, null);
            return;
        }
        String invalid = bedrockInvalid(parsed);
        if (invalid != null) {
            bedrockError(ctx, 400, "ValidationException", invalid, requestId);
            return;
        }
        Reply reply = sim.script.poll();
        if (reply == null) {
            reply = sim.defaultReply != null ? sim.defaultReply : builtIn(parsed);
        }
        Duration delay = reply.delay != null ? reply.delay : sim.options().latency();
        boolean stream = m.group(2).equals("invoke-with-response-stream");
        Reply chosen = reply;
        Runnable play = () -> play(ctx, chosen, stream, model, body.length, requestId, true);
        if (delay.isZero()) {
            play.run();
        } else {
            ctx.executor().schedule(play, delay.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    /**
     * Each provider signs the thinking blocks it produces and refuses the signatures of the others, as
     * Anthropic, Bedrock and Vertex do: the signatures this simulator issues start with its dialect's tag.
     */
    static String foreignSignature(JsonNode body, String dialect) {
        JsonNode messages = body == null ? null : body.path("messages");
        if (messages == null) {
            return null;
        }
        for (int i = 0; i < messages.size(); i++) {
            JsonNode content = messages.get(i).path("content");
            for (int j = 0; j < content.size(); j++) {
                JsonNode block = content.get(j);
                if ("thinking".equals(block.path("type").asText())) {
                    String signature = block.path("signature").asText("");
                    boolean ours = dialect.equals("anthropic") ? !signature.startsWith("bedrock-sig:") && !signature.startsWith("vertex-sig:")
                            : signature.startsWith(dialect + "-sig:");
                    if (!ours) {
                        return "messages." + i + ".content." + j + ": Invalid `signature` in `thinking` block";
                    }
                }
            }
        }
        return null;
    }

    /** What Bedrock would reject in a Claude body, or null. */
    private static String bedrockInvalid(JsonNode body) {
        if (body == null || !body.isObject()) {
            return "Malformed input request, please reformat your input and try again.";
        }
        String foreign = foreignSignature(body, "bedrock");
        if (foreign != null) {
            return foreign;
        }
        if (!"bedrock-2023-05-31".equals(body.path("anthropic_version").asText(null))) {
            return "anthropic_version: must be bedrock-2023-05-31, got " + body.path("anthropic_version");
        }
        for (java.util.Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!BEDROCK_FIELDS.contains(field)) {
                return "Malformed input request: #: extraneous key [" + field + "] is not permitted, please reformat your input and try again.";
            }
        }
        for (JsonNode beta : body.path("anthropic_beta")) {
            if (!BEDROCK_BETAS.contains(beta.asText())) {
                return "invalid beta flag";
            }
        }
        for (JsonNode message : body.path("messages")) {
            if (!java.util.Set.of("user", "assistant").contains(message.path("role").asText())) {
                return "messages: role must be user or assistant, got " + message.path("role");
            }
            for (JsonNode block : message.path("content")) {
                String type = block.path("type").asText();
                if (type.equals("server_tool_use") || type.startsWith("web_search") || type.startsWith("web_fetch") || type.startsWith("code_execution")) {
                    return "messages.content: block type '" + type + "' is not supported";
                }
            }
        }
        for (JsonNode tool : body.path("tools")) {
            if (tool.has("defer_loading") || tool.has("input_examples")) {
                return "tools: extraneous key [defer_loading] is not permitted";
            }
        }
        if (body.has("context_management") && !contains(body.path("anthropic_beta"), "context-management-2025-06-27")) {
            return "context_management: requires the context-management beta";
        }
        return null;
    }

    private static boolean contains(JsonNode array, String value) {
        for (JsonNode v : array) {
            if (value.equals(v.asText())) {
                return true;
            }
        }
        return false;
    }

    /** Checks the SigV4 signature (or a Bedrock API key as Bearer); returns why the request is refused, or null. */
    private String awsDenied(FullHttpRequest request, HttpHeaders headers, String uri, byte[] body) {
        SimulatorOptions.AwsKeys aws = sim.options().aws();
        String authorization = headers.get(HttpHeaderNames.AUTHORIZATION);
        if (aws == null) {
            String required = sim.options().requiredApiKey();
            return required == null || ("Bearer " + required).equals(authorization) ? null : "invalid Bedrock API key";
        }
        SigV4.Authorization auth = SigV4.Authorization.parse(authorization);
        if (auth == null) {
            return "Authorization header is not AWS4-HMAC-SHA256";
        }
        if (!auth.accessKeyId().equals(aws.accessKeyId())) {
            return "The security token included in the request is invalid.";
        }
        if (!"bedrock".equals(auth.service()) || !auth.signedHeaders().contains("host") || !auth.signedHeaders().contains("x-amz-date")) {
            return "credential scope or signed headers are wrong: " + authorization;
        }
        if (aws.sessionToken() != null && !aws.sessionToken().equals(headers.get("x-amz-security-token"))) {
            return "The security token included in the request is invalid.";
        }
        java.util.Map<String, String> lower = new java.util.HashMap<>();
        headers.forEach(e -> lower.put(e.getKey().toLowerCase(java.util.Locale.ROOT), e.getValue()));
        String rawPath = uri.contains("?") ? uri.substring(0, uri.indexOf('?')) : uri;
        String rawQuery = uri.contains("?") ? uri.substring(uri.indexOf('?') + 1) : "";
        String expected = SigV4.signature(aws.secretAccessKey(), auth.region(), "bedrock", lower.get("x-amz-date"), request.method().name(),
                rawPath, rawQuery, lower, auth.signedHeaders(), body, true);
        return expected.equals(auth.signature()) ? null
                : "The request signature we calculated does not match the signature you provided.";
    }

    private void bedrockError(ChannelHandlerContext ctx, int status, String exception, String message, String requestId) {
        ByteBuf content = Unpooled.copiedBuffer(JSON.createObjectNode().put("message", message).toString(), StandardCharsets.UTF_8);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status), content);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes())
                .set("x-amzn-requestid", requestId)
                .set("x-amzn-errortype", exception + ":http://internal.amazon.com/coral/com.amazon.bedrock/");
        ctx.writeAndFlush(r);
    }

    private static String bedrockException(int status) {
        return switch (status) {
            case 429 -> "ThrottlingException";
            case 529, 503 -> "ServiceUnavailableException";
            case 400 -> "ValidationException";
            case 403 -> "AccessDeniedException";
            case 404 -> "ResourceNotFoundException";
            default -> "InternalServerException";
        };
    }

    /** An Anthropic SSE event as Bedrock frames it; message_stop carries the invocation metrics. */
    private static byte[] bedrockFrame(String sseEvent, MessageScript script) {
        int data = sseEvent.indexOf("data: ");
        String json = sseEvent.substring(data + 6).trim();
        if (json.contains("\"type\":\"message_stop\"")) {
            json = json.substring(0, json.length() - 1) + ",\"amazon-bedrock-invocationMetrics\":{\"inputTokenCount\":" + script.inputTokens
                    + ",\"outputTokenCount\":10,\"invocationLatency\":120,\"firstByteLatency\":40}}";
        }
        return EventStreamFrames.chunk(json);
    }

    private boolean authorized(HttpHeaders headers) {
        String required = sim.options().requiredApiKey();
        if (required == null) {
            return true;
        }
        String auth = headers.get(HttpHeaderNames.AUTHORIZATION);
        return required.equals(headers.get("x-api-key")) || ("Bearer " + required).equals(auth);
    }

    /**
     * What a deterministic Claude answers: report a tool result; else call the first MCP tool offered
     * ({@code mcp__*}, no arguments) or run Bash; else greet.
     */
    private static Reply builtIn(JsonNode request) {
        JsonNode messages = request.path("messages");
        JsonNode last = messages.isArray() && messages.size() > 0 ? messages.get(messages.size() - 1) : null;
        if (last != null && last.path("content").isArray()) {
            for (JsonNode block : last.path("content")) {
                if ("tool_result".equals(block.path("type").asText())) {
                    String text = block.path("content").isTextual() ? block.path("content").asText()
                            : block.path("content").path(0).path("text").asText("");
                    return Reply.text("The command ran: " + text.substring(0, Math.min(80, text.length())));
                }
            }
        }
        for (JsonNode tool : request.path("tools")) {
            if (tool.path("name").asText().startsWith("mcp__")) {
                return Reply.toolUse(tool.path("name").asText(), "{}", 1);
            }
        }
        for (JsonNode tool : request.path("tools")) {
            if ("Bash".equals(tool.path("name").asText())) {
                return Reply.toolUse("Bash", BASH_INPUT, 5);
            }
        }
        return Reply.text("Hello from the FinOps Gateway simulator.");
    }

    private void play(ChannelHandlerContext ctx, Reply reply, boolean stream, String model, int requestBytes, String requestId,
            boolean bedrock) {
        if (!ctx.channel().isActive()) {
            return;
        }
        switch (reply.kind) {
            case STATUS -> {
                if (bedrock) {
                    bedrockError(ctx, reply.status == 529 ? 503 : reply.status, bedrockException(reply.status), reply.text, requestId);
                } else {
                    json(ctx, reply.status, MessageScript.error(reply.errorType, reply.text), requestId, reply.retryAfter);
                }
                return;
            }
            case RESET_BEFORE_FIRST_BYTE -> {
                reset(ctx);
                return;
            }
            case STALL_BEFORE_FIRST_BYTE -> {
                return;
            }
            default -> { }
        }
        MessageScript script = new MessageScript(reply, model, requestBytes);
        if (!stream) {
            json(ctx, 200, script.json(), requestId, null);
            return;
        }
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, bedrock ? "application/vnd.amazon.eventstream" : "text/event-stream; charset=utf-8")
                .set(HttpHeaderNames.CACHE_CONTROL, "no-cache")
                .set(bedrock ? "x-amzn-requestid" : "request-id", requestId);
        HttpUtil.setTransferEncodingChunked(head, true);
        write(ctx, head);
        List<byte[]> events = script.events().stream()
                .map(e -> bedrock ? bedrockFrame(e, script) : e.getBytes(StandardCharsets.UTF_8)).toList();
        Runnable end = () -> ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        switch (reply.kind) {
            case RESET_AFTER_FIRST_BYTE -> {
                events = events.subList(0, 3);
                end = () -> ctx.channel().eventLoop().schedule(() -> reset(ctx), 20, TimeUnit.MILLISECONDS);
            }
            case STALL_AFTER_FIRST_BYTE -> {
                events = events.subList(0, 3);
                end = () -> { };
            }
            case MALFORMED_SSE_AFTER_FIRST_BYTE -> {
                events = events.subList(0, 3);
                end = () -> {
                    byte[] bad;
                    if (bedrock) {
                        bad = EventStreamFrames.chunk("{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"x\"}}");
                        bad[bad.length - 1] ^= 0x5a;   // a corrupted message CRC
                    } else {
                        bad = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_de\n\n"
                                .getBytes(StandardCharsets.UTF_8);
                    }
                    write(ctx, new DefaultHttpContent(Unpooled.wrappedBuffer(bad)));
                    ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
                };
            }
            case END_WITHOUT_MESSAGE_STOP -> events = events.subList(0, 4);
            default -> { }
        }
        int rate = sim.options().tokensPerSecond();
        active = new Stream(ctx, events.iterator(), rate > 0 ? TimeUnit.SECONDS.toNanos(1) / rate : 0, end);
        active.pump();
    }

    /** Writes events while the socket takes them; pauses when it does not (backpressure), resumes when it does. */
    private final class Stream {
        private final ChannelHandlerContext ctx;
        private final Iterator<byte[]> events;
        private final long intervalNanos;
        private final Runnable end;
        private boolean scheduled;
        private boolean finished;

        Stream(ChannelHandlerContext ctx, Iterator<byte[]> events, long intervalNanos, Runnable end) {
            this.ctx = ctx;
            this.events = events;
            this.intervalNanos = intervalNanos;
            this.end = end;
        }

        void pump() {
            if (finished || scheduled || !ctx.channel().isActive()) {
                return;
            }
            while (events.hasNext() && ctx.channel().isWritable()) {
                write(ctx, new DefaultHttpContent(Unpooled.wrappedBuffer(events.next())));
                if (intervalNanos > 0 && events.hasNext()) {
                    scheduled = true;
                    ctx.executor().schedule(() -> {
                        scheduled = false;
                        pump();
                    }, intervalNanos, TimeUnit.NANOSECONDS);
                    return;
                }
            }
            if (!events.hasNext()) {
                finished = true;
                active = null;
                end.run();
            }
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (active != null && ctx.channel().isWritable()) {
            active.pump();
        }
        ctx.fireChannelWritabilityChanged();
    }

    private void write(ChannelHandlerContext ctx, Object msg) {
        int bytes = msg instanceof DefaultHttpContent c ? c.content().readableBytes() : 0;
        ctx.writeAndFlush(msg).addListener(f -> {
            if (f.isSuccess()) {
                sim.bytesWritten.addAndGet(bytes);
            }
        });
    }

    private void json(ChannelHandlerContext ctx, int status, String body, String requestId, String retryAfter) {
        ByteBuf content = Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status), content);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
        if (requestId != null) {
            r.headers().set("request-id", requestId);
        }
        if (retryAfter != null) {
            r.headers().set(HttpHeaderNames.RETRY_AFTER, retryAfter);
        }
        if (status == 529 || status == 429 || status >= 500) {
            r.headers().set("x-should-retry", "true");
        }
        int bytes = content.readableBytes();
        ctx.writeAndFlush(r).addListener(f -> sim.bytesWritten.addAndGet(bytes));
    }

    /** Closes with a TCP reset (SO_LINGER 0). */
    private static void reset(ChannelHandlerContext ctx) {
        ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
        ctx.close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
