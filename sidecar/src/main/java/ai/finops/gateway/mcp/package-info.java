/**
 * The gateway's MCP server on {@code /mcp} (streamable HTTP): one endpoint per virtual key that
 * aggregates the tools of the McpServers the key may use, named {@code <toolPrefix>__<tool>}, and
 * routes each tool call to its server with that server's credentials. {@link
 * ai.finops.gateway.mcp.McpGateway} is the one entry the server package calls; upstream servers are
 * reached with the official MCP Java SDK's async client ({@link ai.finops.gateway.mcp.UpstreamClients});
 * session ids are sealed tokens ({@link ai.finops.gateway.mcp.SessionTokens}) any replica can open.
 */
package ai.finops.gateway.mcp;
