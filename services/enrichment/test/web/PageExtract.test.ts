import { describe, expect, it } from "vitest";
import {
  cleanText,
  extractPage,
  isPlausibleName,
  isPlausibleTitle,
  mailtoAddresses,
  normalizeEmail,
} from "../../src/web/PageExtract.js";

const PAGE = "https://acme-mechanical.com/";
const read = (html: string, peopleFromLayout = false, country: "US" | "GB" | undefined = "US") =>
  extractPage(html, PAGE, { country, peopleFromLayout });

describe("phones", () => {
  it("reads tel links, JSON-LD, microdata and visible text, each once, valid numbers only", () => {
    const found = read(`<!doctype html><html><head>
      <script type="application/ld+json">{"@context":"https://schema.org","@type":"LocalBusiness",
        "name":"Acme","telephone":"+1-716-856-4100"}</script></head><body>
      <a href="tel:+1%20716-845-2000;ext=12">Call us</a>
      <a href="tel:(716) 845-2000">again</a>
      <span itemprop="telephone">716.847.1900</span>
      <p>Service line: (716) 881-7000 · Fax 716-842-6100</p>
      <p>Not a number: (123) 456-7890, order #4471, since 1962</p>
    </body></html>`);
    expect(found.phones.map((p) => [p.e164, p.source])).toEqual([
      ["+17168452000", "tel_link"],
      ["+17168564100", "schema_org"],
      ["+17168471900", "schema_org"],
      ["+17168817000", "text"],
      ["+17168426100", "text"],
    ]);
    expect(found.phones[0]).toEqual({
      e164: "+17168452000",
      national: "(716) 845-2000",
      source: "tel_link",
      page: PAGE,
    });
  });

  it("never reads numbers or emails out of script, style, noscript, template or textarea", () => {
    const found =
      read(`<html><head><style>.x:after{content:"(716) 845-2000 a@acme-mechanical.com"}</style></head><body>
      <script>var support = "(716) 881-7000"; var mail = "ops@acme-mechanical.com";</script>
      <script type="text/template"><p>(716) 856-4100</p></script>
      <noscript><p>(716) 847-1900</p></noscript>
      <template><p>(716) 842-6100</p></template>
      <textarea>(212) 736-5000</textarea>
      <svg><text>(716) 845-2000</text></svg>
      <p>Welcome</p></body></html>`);
    expect(found.phones).toEqual([]);
    expect(found.emails).toEqual([]);
  });

  it("does not join digits across table cells or lines into a number", () => {
    const found = read(
      "<table><tr><td>716</td><td>845</td><td>2000</td></tr></table><div>716845</div><div>2000</div>",
    );
    expect(found.phones).toEqual([]);
  });

  it("uses the given country for national numbers and accepts international ones anywhere", () => {
    const html = "<p>London office: 020 7946 0958</p><p>Head office +1 (716) 845-2000</p>";
    expect(read(html, false, "GB").phones.map((p) => p.e164)).toEqual(["+442079460958", "+17168452000"]);
    expect(read(html, false, "US").phones.map((p) => p.e164)).toEqual(["+17168452000"]);
    expect(read(html, false, undefined).phones.map((p) => p.e164)).toEqual(["+17168452000"]);
  });
});

describe("emails", () => {
  it("takes mailto addresses without their parameters, lower-cased", () => {
    expect(
      mailtoAddresses("mailto:Jane.Doe@Acme-Mechanical.com?subject=Hello&cc=boss@acme-mechanical.com"),
    ).toEqual(["jane.doe@acme-mechanical.com"]);
    expect(mailtoAddresses("MAILTO:a%40b@acme.com")).toEqual([]);
    expect(mailtoAddresses("mailto:one@acme.com,two@acme.com")).toEqual(["one@acme.com", "two@acme.com"]);
    expect(mailtoAddresses("mailto:")).toEqual([]);
    expect(mailtoAddresses("https://acme.com")).toEqual([]);
  });

  it("drops placeholders, platform and tracking addresses and image names", () => {
    for (const junk of [
      "someone@example.com",
      "you@yourdomain.com",
      "605a7baede844d278b89dc95ae0a9123@sentry-next.wixpress.com",
      "abc@sentry.io",
      "user@wixpress.com",
      "logo@2x.png",
      "hero-image@3x.webp",
      "noreply@acme.com",
      "no-reply@acme.com",
      "not an email",
      "a@b",
      "jane@acme.com\r\nBcc: x@evil.com",
    ]) {
      expect(normalizeEmail(junk), junk).toBeNull();
    }
    expect(normalizeEmail(" Jane.Doe@Acme.COM ")).toBe("jane.doe@acme.com");
  });

  it("collects mailto links first, then visible text, without junk", () => {
    const found = read(`<body>
      <a href="mailto:Sales@Acme-Mechanical.com?subject=Quote%20request">Email sales</a>
      <p>Or write to service@acme-mechanical.com or sales@acme-mechanical.com.</p>
      <img src="logo@2x.png" alt="logo@2x.png"><p>logo@2x.png</p>
      <p>Template: name@example.com</p>
      <footer>Site by 1234567890abcdef1234567890abcdef@sentry.wixpress.com</footer>
    </body>`);
    expect(found.emails).toEqual([
      { email: "sales@acme-mechanical.com", source: "mailto", page: PAGE },
      { email: "service@acme-mechanical.com", source: "text", page: PAGE },
    ]);
  });
});

describe("people", () => {
  it("reads schema.org Person from JSON-LD and microdata on any page", () => {
    const found = read(`<html><head><script type="application/ld+json">
      {"@context":"https://schema.org","@graph":[{"@type":"Organization","name":"Acme",
        "employee":[{"@type":"Person","name":"Maria Lopez","jobTitle":"Director of Facilities",
          "email":"mailto:MLopez@acme-mechanical.com","telephone":"(716) 845-2001"}]}]}
      </script><script type="application/ld+json">{ broken json </script></head><body>
      <div itemscope itemtype="https://schema.org/Person">
        <span itemprop="name">Tom O'Brien</span> <span itemprop="jobTitle">Operations Manager</span>
        <a itemprop="email" href="mailto:tobrien@acme-mechanical.com">email</a>
      </div></body></html>`);
    expect(found.people).toEqual([
      {
        name: "Maria Lopez",
        title: "Director of Facilities",
        email: "mlopez@acme-mechanical.com",
        phone: "+17168452001",
        page: PAGE,
      },
      {
        name: "Tom O'Brien",
        title: "Operations Manager",
        email: "tobrien@acme-mechanical.com",
        phone: null,
        page: PAGE,
      },
    ]);
  });

  it("pairs a name heading with the title line under it, and the card's own email", () => {
    const found = read(
      `<body><main><section class="team"><h2>Meet Our Team</h2>
        <div class="member"><img src="a.jpg"><div class="info"><h3>Jane Smith</h3><p>Facilities Manager</p></div>
          <a href="mailto:jsmith@acme-mechanical.com?subject=Hi">Email Jane</a><a href="tel:716-845-2002">call</a></div>
        <div class="member"><div class="info"><h3>Robert  Chen</h3><p>Chief Financial Officer (CFO)</p></div>
          <a href="mailto:info@acme-mechanical.com">Email us</a></div>
        <div class="member"><h3>Gary Ford</h3><p>Loves fishing</p></div>
        <p><strong>Alice Wong</strong>, Owner &amp; President</p>
      </section></main></body>`,
      true,
    );
    expect(found.people).toEqual([
      {
        name: "Jane Smith",
        title: "Facilities Manager",
        email: "jsmith@acme-mechanical.com",
        phone: "+17168452002",
        page: PAGE,
      },
      // a shared mailbox in the card is the company's, not Robert's
      { name: "Robert Chen", title: "Chief Financial Officer (CFO)", email: null, phone: null, page: PAGE },
      { name: "Alice Wong", title: "Owner & President", email: null, phone: null, page: PAGE },
    ]);
  });

  it("takes no names from the layout unless asked (home pages)", () => {
    const html = '<div><h3>Jane Smith</h3><p>Facilities Manager</p><a href="mailto:js@acme.com">e</a></div>';
    expect(read(html, false).people).toEqual([]);
    expect(read(html, true).people).toHaveLength(1);
  });

  it("is conservative: headings, brands, places and sentences are not people", () => {
    const found = read(
      `<body>
        <div><h2>Our Team</h2><p>Operations Manager</p></div>
        <div><h2>Contact Us</h2><p>Service Manager on call</p></div>
        <div><h3>ACME HVAC</h3><p>Owner operated</p></div>
        <div><h3>Western New York</h3><p>Sales Representative</p></div>
        <div><h3>Jane Smith</h3><p>Jane has been our facilities manager for many years and loves the lake.</p></div>
        <div><h3>Jane Smith</h3><p>jane@acme.com</p></div>
        <div><h3>Buffalo Office</h3><p>Office Manager</p></div>
        <div><h3>Heating Cooling</h3><p>Lead Technician</p></div>
        <div><h4>john smith</h4><p>Owner</p></div>
        <div><h3>Call 716 845 2000</h3><p>President</p></div>
      </body>`,
      true,
    );
    expect(found.people).toEqual([]);
  });

  it("strips control characters and caps lengths in names and titles", () => {
    const longTitle = `Director of ${"Facilities and ".repeat(20)}Operations`;
    const found = read(
      `<div><h3>Jane&#13;&#10;Smith\u0007</h3><p>Facilities\r\nManager\u202e\u0000</p></div>
       <div itemscope itemtype="http://schema.org/Person"><span itemprop="name">Robert Chen</span>
         <span itemprop="jobTitle">${longTitle}</span></div>`,
      true,
    );
    const jane = found.people.find((p) => p.name.startsWith("Jane"));
    const robert = found.people.find((p) => p.name === "Robert Chen");
    expect(jane?.name).toBe("Jane Smith");
    expect(jane?.title).toBe("Facilities Manager");
    expect(robert?.title?.length).toBeLessThanOrEqual(150);
    for (const p of found.people) {
      const controls = Array.from(`${p.name}${p.title}`)
        .map((ch) => ch.codePointAt(0)!)
        .filter((cp) => cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e));
      expect(controls).toEqual([]);
    }
  });

  it("name and title rules", () => {
    expect(isPlausibleName("Mary-Jane van der Berg")).toBe(true);
    expect(isPlausibleName("José Álvarez")).toBe(true);
    expect(isPlausibleName("J. Robert Smith")).toBe(true);
    expect(isPlausibleName("Smith")).toBe(false);
    expect(isPlausibleName("Plant Manager")).toBe(false);
    expect(isPlausibleName("Jane Smith 2")).toBe(false);
    expect(isPlausibleName(`Jane ${"A".repeat(120)}`)).toBe(false);
    expect(isPlausibleTitle("VP, Operations")).toBe(true);
    expect(isPlausibleTitle("Facilities")).toBe(false);
    expect(isPlausibleTitle("Call us at 716-845-2000 to reach the manager")).toBe(false);
  });
});

describe("hostile markup", () => {
  it("cleanText removes controls, bidi and zero-width marks and caps by code point", () => {
    expect(cleanText("a\r\nb\u0000c\u200bd\u202ee\tf")).toBe("a b c d e f");
    expect(cleanText("😀".repeat(10), 3)).toBe("😀😀😀");
  });

  it("survives deep nesting and broken markup without recursion limits", () => {
    const deep = `${"<div>".repeat(100_000)}<a href="tel:716-845-2000">x</a>${"</div>".repeat(100_000)}`;
    expect(read(deep).phones.map((p) => p.e164)).toEqual(["+17168452000"]);
    const broken = "<p>Call <b>(716) 845-2000<i></p></table><a href=mailto:ops@acme-mechanical.com>ops";
    const found = read(broken);
    expect(found.phones.map((p) => p.e164)).toEqual(["+17168452000"]);
    expect(found.emails.map((e) => e.email)).toEqual(["ops@acme-mechanical.com"]);
  });

  it("stays linear when every heading holds the rest of the page", () => {
    // quadratic text gathering took ~20 s here; the budget per heading keeps it well under a second
    const nested = `${"<b>Jane Smith ".repeat(5_000)}${"</b>".repeat(5_000)}<p>Owner</p>`;
    const started = Date.now();
    read(nested, true);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("lists http(s) links resolved against the page, without fragments or other schemes", () => {
    const found = read(
      `<a href="/about-us#team">About <b>us</b></a><a href="javascript:alert(1)">x</a>
       <a href="https://other.example.org/team">other</a><a href="mailto:a@acme.com">m</a><a href="http://[bad">bad</a>`,
    );
    expect(found.links).toEqual([
      { url: "https://acme-mechanical.com/about-us", text: "About us" },
      { url: "https://other.example.org/team", text: "other" },
    ]);
  });
});
