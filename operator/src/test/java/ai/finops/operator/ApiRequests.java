package ai.finops.operator;

import io.fabric8.mockwebserver.http.RecordedRequest;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** What an API request asks for, in RBAC terms: API group, resource (with subresource) and verb. */
record ApiRequests(String group, String resource, String verb) implements Comparable<ApiRequests> {

    static ApiRequests of(RecordedRequest request) {
        String path = request.getPath();
        String query = "";
        int q = path.indexOf('?');
        if (q >= 0) {
            query = path.substring(q + 1);
            path = path.substring(0, q);
        }
        List<String> parts = Arrays.asList(path.substring(1).split("/"));
        String group;
        List<String> rest;
        if (parts.get(0).equals("api")) {            // /api/v1/...
            group = "";
            rest = parts.subList(2, parts.size());
        } else {                                      // /apis/{group}/{version}/...
            group = parts.get(1);
            rest = parts.subList(3, parts.size());
        }
        String resource;
        String name = null;
        String sub = null;
        if (rest.get(0).equals("namespaces") && rest.size() >= 3) {   // namespaced: namespaces/{ns}/{resource}[/{name}[/{sub}]]
            resource = rest.get(2);
            name = rest.size() > 3 ? rest.get(3) : null;
            sub = rest.size() > 4 ? rest.get(4) : null;
        } else {                                                         // cluster-scoped or all namespaces: {resource}[/{name}[/{sub}]]
            resource = rest.get(0);
            name = rest.size() > 1 ? rest.get(1) : null;
            sub = rest.size() > 2 ? rest.get(2) : null;
        }
        String verb = switch (request.getMethod().toUpperCase(Locale.ROOT)) {
            case "GET" -> name != null ? "get" : query.contains("watch=true") ? "watch" : "list";
            case "POST" -> "create";
            case "PUT" -> "update";
            case "PATCH" -> "patch";
            case "DELETE" -> name != null ? "delete" : "deletecollection";
            default -> request.getMethod();
        };
        return new ApiRequests(group, sub == null ? resource : resource + "/" + sub, verb);
    }

    @Override
    public int compareTo(ApiRequests o) {
        return toString().compareTo(o.toString());
    }

    @Override
    public String toString() {
        return (group.isEmpty() ? "core" : group) + " " + resource + " " + verb;
    }
}
