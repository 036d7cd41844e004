package dev.pgbranch.bench.e2e;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One figure next to its reference, measured in the same run.
 *
 * @param name stable identifier, e.g. {@code branch_create_parent_running_s10}
 * @param pgbranch the pgbranch value
 * @param reference the plain-Postgres value
 * @param ratio {@code pgbranch / reference}; NaN if the reference is 0 (written as null)
 * @param unit {@code ms}, {@code s}, {@code tps} or {@code bytes}
 * @param pgbranchMeasures what the pgbranch value is the measure of
 * @param referenceMeasures what the reference value is the measure of
 * @param details how it was measured (repetitions, the individual samples, states)
 * @param conditions machine and server settings at the time
 */
record ResultRow(String name, double pgbranch, double reference, double ratio, String unit, String pgbranchMeasures,
        String referenceMeasures, String details, Map<String, Object> conditions) {

    static ResultRow of(String name, double pgbranch, double reference, String unit, String pgbranchMeasures,
            String referenceMeasures, String details, Map<String, Object> conditions) {
        double ratio = reference == 0 ? Double.NaN : pgbranch / reference;
        return new ResultRow(name, pgbranch, reference, ratio, unit, pgbranchMeasures, referenceMeasures, details,
                Collections.unmodifiableMap(new LinkedHashMap<>(conditions)));
    }
}
