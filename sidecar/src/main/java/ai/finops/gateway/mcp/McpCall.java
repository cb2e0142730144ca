package ai.finops.gateway.mcp;

import ai.finops.gateway.auth.CompiledBudget;
import ai.finops.gateway.auth.KeyEntry;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.FullHttpRequest;
import java.util.List;

/**
 * One HTTP request to {@code /mcp} as the server hands it over: the request (which the caller
 * releases once answered), the authenticated key, the snapshot's McpServers, Budgets and CORS origins, and the
 * allocator for the answer.
 *
 * @param budgets the snapshot's Budgets, which a priced tool call is charged against
 * @param allowedOrigins the gateway's CORS origins ({@code *} = any): a browser page of another origin is refused
 */
public record McpCall(FullHttpRequest request, KeyEntry key, List<McpUpstream> servers, List<CompiledBudget> budgets,
        List<String> allowedOrigins, ByteBufAllocator alloc) {}
