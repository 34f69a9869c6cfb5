package launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.FieldModel;
import java.lang.classfile.MethodModel;
import java.lang.classfile.instruction.ConstantInstruction;
import java.lang.classfile.instruction.FieldInstruction;
import java.lang.classfile.instruction.InvokeInstruction;
import java.lang.classfile.instruction.NewObjectInstruction;
import java.lang.classfile.instruction.NewReferenceArrayInstruction;
import java.lang.classfile.instruction.TypeCheckInstruction;
import java.lang.constant.ClassDesc;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The launcher's class path at run time holds only the framework (target/lib), not the bundles it
 * compiles against: it names the api's service properties and shutdown codes (DomainProperties,
 * SchedOp.SHUTDOWN_*) through constants, which javac copies into its own class files. Code that
 * used a bundle's class would fail with NoClassDefFoundError only when it runs, so this test reads
 * every instruction and signature of the launcher's class files for one. (javac also records the
 * class of an inlined constant in the constant pool, unused: the JVM never loads it.)
 */
class ClassPathTest {
    /** Where the bundles' classes live, in class-file notation. */
    private static final List<String> BUNDLE_PACKAGES = List.of("xen/evtchn/", "kvm/provider/", "reference/guest/",
            "xen/console/", "xen/store/", "xen/bus/", "org/osgi/service/", "org/osgi/util/", "org/apache/felix/scr/", "org/apache/felix/cm/",
            "org/apache/felix/gogo/");

    @Test
    void noLauncherCodeUsesABundleClass() throws IOException, URISyntaxException {
        Path classes = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<Path> files;
        try (Stream<Path> all = Files.walk(classes)) {
            files = all.filter(p -> p.toString().endsWith(".class")).toList();
        }
        assertTrue(files.size() > 3, "the launcher's class files in " + classes + ": " + files);
        Set<String> offending = new TreeSet<>();
        for (Path file : files) {
            ClassModel model = ClassFile.of().parse(file);
            for (ClassDesc used : classesUsed(model)) {
                String name = used.descriptorString();
                if (BUNDLE_PACKAGES.stream().anyMatch(p -> name.contains("L" + p))) {
                    offending.add(model.thisClass().asInternalName() + " uses " + name);
                }
            }
        }
        assertEquals(Set.of(), offending, "launcher code that needs a bundle on the class path");
    }

    /** The reading sees a call: this class's own of ClassFile.of(). */
    @Test
    void seesTheClassesACallUses() throws IOException {
        ClassModel self = ClassFile.of().parse(Path.of(classFileOf(ClassPathTest.class)));
        assertTrue(classesUsed(self).contains(ClassDesc.of("java.lang.classfile.ClassFile")), "ClassFile.of() is seen");
    }

    private static String classFileOf(Class<?> c) {
        try {
            return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI())
                    .resolve(c.getName().replace('.', '/') + ".class").toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The classes the code of {@code model} uses: by instruction, in a field's type or a method's signature. */
    private static Set<ClassDesc> classesUsed(ClassModel model) {
        Set<ClassDesc> used = new HashSet<>();
        for (FieldModel field : model.fields()) {
            used.add(field.fieldTypeSymbol());
        }
        for (MethodModel method : model.methods()) {
            used.add(method.methodTypeSymbol().returnType());
            used.addAll(method.methodTypeSymbol().parameterList());
            method.code().ifPresent(code -> code.forEach(element -> {
                switch (element) {
                    case FieldInstruction f -> {
                        used.add(f.owner().asSymbol());
                        used.add(f.typeSymbol());
                    }
                    case InvokeInstruction i -> {
                        used.add(i.owner().asSymbol());
                        used.add(i.typeSymbol().returnType());
                        used.addAll(i.typeSymbol().parameterList());
                    }
                    case TypeCheckInstruction t -> used.add(t.type().asSymbol());
                    case NewObjectInstruction n -> used.add(n.className().asSymbol());
                    case NewReferenceArrayInstruction a -> used.add(a.componentType().asSymbol());
                    case ConstantInstruction c when c.constantValue() instanceof ClassDesc d -> used.add(d);
                    default -> {
                    }
                }
            }));
        }
        return used;
    }
}
