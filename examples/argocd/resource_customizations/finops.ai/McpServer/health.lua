-- Health of a finops.ai resource (VirtualKey, RoutingRule, ProviderDeployment, Budget) from the conditions
-- the finops operator writes: Accepted, ResolvedRefs, Ready. Other conditions (BudgetExceeded, which the
-- spend loop writes) are about spending, not configuration: they leave the health as it is.
-- Lua 5.1, as Argo CD's gopher-lua runs it.
local owned = {Accepted = true, ResolvedRefs = true, Ready = true}
local hs = {}
if obj.status == nil or obj.status.conditions == nil or #obj.status.conditions == 0 then
  hs.status = "Progressing"
  hs.message = "Waiting for the finops operator to reconcile this resource"
  return hs
end
local generation = obj.metadata and obj.metadata.generation
if generation ~= nil and obj.status.observedGeneration ~= nil and obj.status.observedGeneration < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the finops operator to observe generation " .. generation
  return hs
end
local ready = nil
for _, condition in ipairs(obj.status.conditions) do
  if owned[condition.type] then
    local current = condition.observedGeneration == nil or generation == nil or condition.observedGeneration >= generation
    if condition.status == "False" and current then
      hs.status = "Degraded"
      hs.message = condition.type .. ": " .. (condition.reason or "") .. ": " .. (condition.message or "")
      return hs
    end
    if condition.type == "Ready" then
      ready = condition
    end
  end
end
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message or "Ready"
  return hs
end
hs.status = "Progressing"
hs.message = "Waiting for the Ready condition"
return hs
