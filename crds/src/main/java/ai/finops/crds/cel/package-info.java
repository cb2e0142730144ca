/** CEL support for RoutingRule {@code when} conditions: {@link ai.finops.crds.cel.RuleExpressions}. */
package ai.finops.crds.cel;
