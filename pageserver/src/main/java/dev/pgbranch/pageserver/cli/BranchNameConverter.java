package dev.pgbranch.pageserver.cli;

import dev.pgbranch.pageserver.catalog.BranchName;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Validates branch names on the command line, so a bad name is a usage error before any request. */
final class BranchNameConverter implements ITypeConverter<String> {

    @Override
    public String convert(String value) {
        try {
            return BranchName.of(value).value();
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }
}
