import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// An XML element as S3 responses use them: a name, text, and child elements (no attributes are needed).
///
/// Built with Foundation's `XMLParser` (libxml2 underneath): the responses are small (a listing page is a few hundred
/// KiB), so a tree is simpler than typed SAX handlers, and no XML package is needed beyond Foundation.
package struct XMLTree: Sendable {
    package var name: String
    package var text: String
    package var children: [XMLTree]

    package init(name: String, text: String = "", children: [XMLTree] = []) {
        self.name = name
        self.text = text
        self.children = children
    }

    /// The first child element named `name`.
    package func child(_ name: String) -> XMLTree? {
        self.children.first { $0.name == name }
    }

    /// Every child element named `name`, in order.
    package func children(_ name: String) -> [XMLTree] {
        self.children.filter { $0.name == name }
    }

    /// The text of the first child element named `name`.
    package func value(_ name: String) -> String? {
        self.child(name)?.text
    }

    /// Parses a whole document; nil when it is not well-formed XML.
    package static func parse(_ data: Data) -> XMLTree? {
        let parser = XMLParser(data: data)
        let builder = Builder()
        parser.delegate = builder
        parser.shouldResolveExternalEntities = false
        guard parser.parse(), let root = builder.root else { return nil }
        return root
    }

    /// Collects the tree while `XMLParser` walks the document. Used by one parse on one thread.
    private final class Builder: NSObject, XMLParserDelegate {
        var stack: [XMLTree] = []
        var root: XMLTree?

        func parser(
            _ parser: XMLParser,
            didStartElement elementName: String,
            namespaceURI: String?,
            qualifiedName qName: String?,
            attributes attributeDict: [String: String] = [:]
        ) {
            self.stack.append(XMLTree(name: elementName))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            guard !self.stack.isEmpty else { return }
            self.stack[self.stack.count - 1].text += string
        }

        func parser(
            _ parser: XMLParser,
            didEndElement elementName: String,
            namespaceURI: String?,
            qualifiedName qName: String?
        ) {
            guard var element = self.stack.popLast() else { return }
            if !element.children.isEmpty {
                // Text of a container is only the whitespace between its children.
                element.text = ""
            }
            if self.stack.isEmpty {
                self.root = element
            } else {
                self.stack[self.stack.count - 1].children.append(element)
            }
        }
    }
}
