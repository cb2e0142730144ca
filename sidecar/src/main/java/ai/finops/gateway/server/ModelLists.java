package ai.finops.gateway.server;

import ai.finops.gateway.auth.KeyEntry;
import ai.finops.gateway.config.Snapshot;
import ai.finops.gateway.routing.Deployment;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.TreeSet;

/**
 * {@code GET .../v1/models} ({@link Endpoint#ANTHROPIC_MODELS}, {@link Endpoint#OPENAI_MODELS}): the
 * models the key may name, those the deployments list (pass-through deployments accept any), in the
 * list form of the surface asked.
 */
final class ModelLists {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelLists() {}

    static void anthropic(ApiCall call) {
        call.reply(models(call.ctx(), call.snapshot(), call.key()));
    }

    static void openAi(ApiCall call) {
        call.reply(openAiModels(call.ctx(), call.snapshot(), call.key()));
    }

    /** The models this key may name, in OpenAI's list form. */
    private static FullHttpResponse openAiModels(ChannelHandlerContext ctx, Snapshot snapshot, KeyEntry key) {
        ObjectNode list = JSON.createObjectNode().put("object", "list");
        ArrayNode data = list.putArray("data");
        long created = snapshot.loadedAt().getEpochSecond();
        for (Deployment d : snapshot.routing().deployments().values()) {
            if (key.allowsProvider(d.name(), d.type().id())) {
                new TreeSet<>(d.models().keySet()).stream().filter(key::allowsModel)
                        .forEach(name -> data.addObject().put("id", name).put("object", "model").put("created", created).put("owned_by", d.name()));
            }
        }
        byte[] bytes = list.toString().getBytes(StandardCharsets.UTF_8);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, ctx.alloc().buffer(bytes.length).writeBytes(bytes));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON).setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        return r;
    }

    /** The models this key may name: those the deployments list (pass-through deployments accept any). */
    private static FullHttpResponse models(ChannelHandlerContext ctx, Snapshot snapshot, KeyEntry key) {
        TreeSet<String> names = new TreeSet<>();
        for (Deployment d : snapshot.routing().deployments().values()) {
            if (key.allowsProvider(d.name(), d.type().id())) {
                d.models().keySet().stream().filter(key::allowsModel).forEach(names::add);
            }
        }
        ObjectNode list = JSON.createObjectNode();
        ArrayNode data = list.putArray("data");
        String created = snapshot.loadedAt().toString();
        names.forEach(name -> data.addObject().put("type", "model").put("id", name).put("display_name", name).put("created_at", created));
        list.put("has_more", false);
        list.put("first_id", names.isEmpty() ? null : names.first());
        list.put("last_id", names.isEmpty() ? null : names.last());
        byte[] bytes = list.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuf content = ctx.alloc().buffer(bytes.length).writeBytes(bytes);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, content);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON).setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        return r;
    }
}
