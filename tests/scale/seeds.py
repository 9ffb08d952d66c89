# ruff: noqa: E501 (markup kept as the formats write it)
"""Small valid files in every format the official-list loaders read, written for the hostile-
input tests (the people, companies and ships are invented). Each is the starting point of
mutations: a property test damages it and the loader must answer with its one-line error.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Seed:
    """A valid snapshot file: the source that reads it, its file name and its bytes."""

    source: str
    filename: str
    data: bytes
    published: str | None = None  # for formats that do not state their date
    companions: tuple[tuple[str, bytes], ...] = ()  # files read beside the main one


_OFAC_CSV = (
    '9001,"ZORVANT TRADING LLC",-0- ,"SDGT] [IRGC",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,'
    "\"a.k.a. 'ZORVANT CO'; Linked To: KELMAR SHIPPING.\"\r\n"
    '9002,"KELMAR, Ivo",individual,"SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,'
    '"DOB 12 Apr 1961; nationality Russia."\r\n'
    '9003,"NORTHERN STAR",vessel,"IRAN",-0- ,"9HA1234","Crude Oil Tanker",-0- ,"80000",'
    '"Malta",-0- ,"IMO 9123456."\r\n\x1a'
)

_OFAC_ADD = (
    '9001,101,"PO Box 77",-0- ,"United Arab Emirates",-0- \r\n9002,102,-0- ,"Riga",-0- ,-0- \r\n'
)
_OFAC_ALT = (
    '9001,201,"aka","ZORVANT GENERAL TRADING",-0- \r\n9002,202,"fka","KELMARS, Ivo",-0- \r\n'
)

_OFAC_CLASSIC = """<?xml version="1.0" standalone="yes"?>
<sdnList xmlns="http://tempuri.org/sdnList.xsd">
  <publshInformation><Publish_Date>04/06/2018</Publish_Date><Record_Count>2</Record_Count></publshInformation>
  <sdnEntry>
    <uid>9001</uid><lastName>ZORVANT TRADING LLC</lastName><sdnType>Entity</sdnType>
    <programList><program>SDGT</program></programList>
    <akaList><aka><uid>1</uid><type>a.k.a.</type><category>strong</category><lastName>ZORVANT CO</lastName></aka></akaList>
    <addressList><address><uid>2</uid><city>Dubai</city><country>United Arab Emirates</country></address></addressList>
  </sdnEntry>
  <sdnEntry>
    <uid>9002</uid><firstName>Ivo</firstName><lastName>KELMAR</lastName><sdnType>Individual</sdnType>
    <programList><program>SDGT</program></programList>
    <dateOfBirthList><dateOfBirthItem><uid>3</uid><dateOfBirth>12 Apr 1961</dateOfBirth></dateOfBirthItem></dateOfBirthList>
  </sdnEntry>
</sdnList>
"""

_OFAC_ENHANCED = """<?xml version="1.0" encoding="utf-8"?>
<sanctionsData xmlns="https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/ENHANCED_XML">
  <publicationInfo><dataAsOf>2025-01-10T00:00:00</dataAsOf></publicationInfo>
  <referenceValues><referenceValue refId="1"><type>Entity Type</type><value>Entity</value></referenceValue></referenceValues>
  <entities>
    <entity id="9101">
      <generalInfo><entityType>Entity</entityType></generalInfo>
      <sanctionsLists><sanctionsList datePublished="2021-06-03">Non-SDN Chinese Military-Industrial Complex Companies List</sanctionsList></sanctionsLists>
      <sanctionsPrograms><sanctionsProgram>CMIC-EO13959</sanctionsProgram></sanctionsPrograms>
      <names>
        <name><isPrimary>true</isPrimary><aliasType></aliasType><isLowQuality>false</isLowQuality>
          <translations><translation><isPrimary>true</isPrimary><script>Latin</script><formattedFullName>QORVEX AVIONICS CO., LTD.</formattedFullName></translation>
          <translation><isPrimary>false</isPrimary><script>Chinese Simplified</script><formattedFullName>科维克斯航电有限公司</formattedFullName></translation></translations></name>
        <name><isPrimary>false</isPrimary><aliasType>A.K.A.</aliasType><isLowQuality>false</isLowQuality>
          <translations><translation><isPrimary>true</isPrimary><script>Latin</script><formattedFullName>QORVEX</formattedFullName></translation></translations></name>
      </names>
      <addresses><address><country>China</country><translations><translation><addressParts><addressPart><value>Shenzhen</value></addressPart></addressParts></translation></translations></address></addresses>
      <features><feature><type>Organization Established Date</type><value>2004</value></feature></features>
    </entity>
  </entities>
</sanctionsData>
"""

_CSL_CSV = (
    "_id,source,entity_number,type,programs,name,title,addresses,federal_register_notice,"
    "start_date,end_date,standard_order,license_requirement,license_policy,call_sign,"
    "vessel_type,gross_tonnage,gross_registered_tonnage,vessel_flag,vessel_owner,remarks,"
    "source_list_url,alt_names,citizenships,dates_of_birth,nationalities,places_of_birth,"
    "source_information_url,ids\n"
    "a1b2c3,Entity List (EL) - Bureau of Industry and Security,,,,"
    '"Qorvex Avionics Co., Ltd., Shenzhen","","Building 4, Shenzhen, CN",85 FR 83420,'
    "2020-12-22,,,For all items subject to the EAR.,Presumption of denial.,,,,,,,,"
    "https://example.org/el,Qorvex; QAC,,,,,https://example.org/info,\n"
    "9101,Non-SDN Chinese Military-Industrial Complex Companies List (CMIC) - Treasury "
    'Department,9101,Entity,CMIC-EO13959,"ZORVANT AEROSPACE CORP.",,"Beijing, CN",,'
    "2021-06-03,,,,,,,,,,,,,ZORVANT AERO,,,,,,\n"
)

_CSL_JSON = """{"total": 1, "sources_used": [], "results": [
 {"id": "d4e5f6", "source": "Entity List (EL) - Bureau of Industry and Security",
  "entity_number": null, "type": null, "programs": [], "name": "Kelmar Optics Institute",
  "title": null, "addresses": [{"address": "12 Ring Road", "city": "Minsk", "state": null,
  "postal_code": null, "country": "BY"}], "federal_register_notice": "87 FR 13048",
  "start_date": "2022-03-03", "end_date": null, "standard_order": null,
  "license_requirement": "For all items subject to the EAR.", "license_policy": "Denial.",
  "alt_names": ["KOI"], "ids": []}]}
"""

_DPL = (
    '"Name"\t"Street_Address"\t"City"\t"State"\t"Country"\t"Postal_Code"\t"Effective_Date"\t'
    '"Expiration_Date"\t"Standard_Order"\t"Last_Update"\t"Action"\t"FR_Citation"\n'
    '"IVO KELMAR"\t"12 HARBOUR ST"\t"RIGA"\t""\t"LV"\t"1010"\t"03/04/2019"\t"03/04/2029"\t'
    '"Y"\t"2019-03-10"\t"FR NOTICE ADDED"\t"84 F.R. 8500 3/8/2019"\n'
    '" ZORVANT TRADING"\t"PO BOX 7"\t"DUBAI"\t""\t"AE"\t""\t"06/01/2019"\t"06/01/2024"\t'
    '"Y"\t"3019-06-05"\t"FR NOTICE ADDED"\t"84 F.R. 26000 6/5/2019"\n'
)

_UN = """<?xml version="1.0" encoding="UTF-8"?>
<CONSOLIDATED_LIST dateGenerated="2026-02-27T00:00:02.5-05:00">
<INDIVIDUALS>
<INDIVIDUAL><DATAID>990001</DATAID><VERSIONNUM>1</VERSIONNUM><FIRST_NAME>IVO</FIRST_NAME><SECOND_NAME>KELMAR</SECOND_NAME>
<UN_LIST_TYPE>DPRK</UN_LIST_TYPE><REFERENCE_NUMBER>KPi.901</REFERENCE_NUMBER><LISTED_ON>2017-06-02</LISTED_ON>
<NAME_ORIGINAL_SCRIPT>Иво Келмар</NAME_ORIGINAL_SCRIPT>
<INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME>Ivo Kelmarov; I. Kelmar</ALIAS_NAME></INDIVIDUAL_ALIAS>
<INDIVIDUAL_ALIAS><QUALITY/><ALIAS_NAME/></INDIVIDUAL_ALIAS>
<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><DATE>1961-04-12</DATE></INDIVIDUAL_DATE_OF_BIRTH>
<NATIONALITY><VALUE>Democratic People's Republic of Korea</VALUE></NATIONALITY>
</INDIVIDUAL>
</INDIVIDUALS>
<ENTITIES>
<ENTITY><DATAID>990002</DATAID><VERSIONNUM>1</VERSIONNUM><FIRST_NAME>ZORVANT TRADING CORPORATION</FIRST_NAME>
<UN_LIST_TYPE>DPRK</UN_LIST_TYPE><REFERENCE_NUMBER>KPe.901</REFERENCE_NUMBER><LISTED_ON>2016-03-02</LISTED_ON>
<ENTITY_ALIAS><QUALITY>a.k.a.</QUALITY><ALIAS_NAME>ZTC</ALIAS_NAME></ENTITY_ALIAS>
<ENTITY_ADDRESS><CITY>Pyongyang</CITY><COUNTRY>Democratic People's Republic of Korea</COUNTRY></ENTITY_ADDRESS>
</ENTITY>
</ENTITIES>
</CONSOLIDATED_LIST>
"""

_EU = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<export xmlns="http://eu.europa.ec/fpi/fsd/export" generationDate="2025-03-14T17:02:11.512+01:00" globalFileId="170001">
  <sanctionEntity designationDetails="" unitedNationId="" euReferenceNumber="EU.9901.11" logicalId="990101">
    <regulation regulationType="amendment" organisationType="council" publicationDate="2022-02-23" entryIntoForceDate="2022-02-23" numberTitle="2022/260" programme="UKR" logicalId="150001"/>
    <subjectType code="person" classificationCode="P"/>
    <nameAlias firstName="Ivo" middleName="" lastName="Kelmar" wholeName="Ivo KELMAR" function="" gender="M" title="" nameLanguage="" strong="true" regulationLanguage="en" logicalId="590101"/>
    <nameAlias firstName="" middleName="" lastName="" wholeName="Иво КЕЛМАР" function="" gender="M" title="" nameLanguage="RU" strong="true" regulationLanguage="en" logicalId="590102"/>
    <birthdate circa="false" calendarType="GREGORIAN" city="Riga" birthdate="1961-04-12" dayOfMonth="12" monthOfYear="4" year="1961" countryIso2Code="LV" regulationLanguage="en" logicalId="590103"/>
  </sanctionEntity>
  <sanctionEntity designationDetails="" unitedNationId="" euReferenceNumber="EU.9902.22" logicalId="990102">
    <regulation regulationType="amendment" organisationType="council" publicationDate="2023-06-23" entryIntoForceDate="2023-06-23" numberTitle="2023/1214" programme="UKR" logicalId="150002"/>
    <subjectType code="enterprise" classificationCode="E"/>
    <nameAlias firstName="" middleName="" lastName="" wholeName="Zorvant Trading LLC" function="" gender="" title="" nameLanguage="" strong="true" regulationLanguage="en" logicalId="590201"/>
  </sanctionEntity>
</export>
"""

_UK = """<?xml version="1.0" encoding="utf-8"?>
<Designations>
  <DateGenerated>02/09/2025</DateGenerated>
  <Designation>
    <LastUpdated>14/03/2024</LastUpdated><DateDesignated>24/02/2022</DateDesignated>
    <UniqueID>RUS9901</UniqueID><OFSIGroupID>99901</OFSIGroupID>
    <Names><Name><Name1>Ivo</Name1><Name6>KELMAR</Name6><NameType>Primary Name</NameType></Name>
      <Name><Name1>Iwo</Name1><Name6>KELMAR</Name6><NameType>Alias</NameType></Name></Names>
    <RegimeName>The Russia (Sanctions) (EU Exit) Regulations 2019</RegimeName>
    <IndividualEntityShip>Individual</IndividualEntityShip>
    <SanctionsImposed>Asset freeze|Travel Ban</SanctionsImposed>
  </Designation>
  <Designation>
    <LastUpdated>01/05/2023</LastUpdated><DateDesignated>01/05/2023</DateDesignated>
    <UniqueID>RUS9902</UniqueID><OFSIGroupID>99902</OFSIGroupID>
    <Names><Name><Name6>ZORVANT TRADING LLC</Name6><NameType>Primary Name</NameType></Name></Names>
    <RegimeName>The Russia (Sanctions) (EU Exit) Regulations 2019</RegimeName>
    <IndividualEntityShip>Entity</IndividualEntityShip>
    <SanctionsImposed>Asset freeze</SanctionsImposed>
  </Designation>
</Designations>
"""

_FTM = (
    '{"id": "t-kelmar", "schema": "Person", "properties": {"name": ["Ivo KELMAR"], '
    '"alias": ["Иво Келмар"], "birthDate": ["1961-04-12"], "nationality": ["lv"], '
    '"topics": ["sanction"]}, "datasets": ["eu_fsf"]}\n'
    '{"id": "t-zorvant", "schema": "Company", "properties": {"name": ["Zorvant Trading LLC"], '
    '"country": ["ae"], "registrationNumber": ["ZT-0001"]}, "datasets": ["us_ofac_sdn"]}\n'
    '{"id": "t-zorvant-sanction", "schema": "Sanction", "properties": {"entity": '
    '["t-zorvant"], "program": ["SDGT"], "listingDate": ["2019-05-02"]}, '
    '"datasets": ["us_ofac_sdn"]}\n'
)

_OPENSANCTIONS_CSV = (
    "celex,annex,recordId,schema,name,alias,startDate,programKey\n"
    '32014R0269,I,901,Person,Ivo KELMAR,"Иво КЕЛМАР; Iwo Kelmar",21.3.2022,EU-UKR\n'
    "32014R0269,I,902,Company,Zorvant Trading LLC,,8.4.2022,EU-UKR\n"
)

SEEDS: dict[str, Seed] = {
    "ofac-legacy-csv": Seed(
        "ofac-sdn",
        "sdn.csv",
        _OFAC_CSV.encode("ascii"),
        "2024-05-01",
        (("add.csv", _OFAC_ADD.encode("ascii")), ("alt.csv", _OFAC_ALT.encode("ascii"))),
    ),
    "ofac-classic-xml": Seed("ofac-sdn", "consolidated.xml", _OFAC_CLASSIC.encode()),
    "ofac-enhanced-xml": Seed("ofac-cons", "CONS_ENHANCED.XML", _OFAC_ENHANCED.encode()),
    "csl-csv": Seed("us-csl", "consolidated.csv", _CSL_CSV.encode(), "2022-04-22"),
    "csl-json": Seed("us-csl", "consolidated.json", _CSL_JSON.encode(), "2022-04-22"),
    "dpl-txt": Seed("bis-dpl", "dpl.txt", _DPL.encode("ascii"), "2019-06-05"),
    "un-xml": Seed("un-sc", "consolidated.xml", _UN.encode()),
    "eu-fsf-xml": Seed("eu-fsf", "export.xml", _EU.encode()),
    "uk-xml": Seed("uk-sanctions", "UK-Sanctions-List.xml", _UK.encode()),
    "ftm-json": Seed("ftm", "entities.ftm.json", _FTM.encode(), "2025-01-01"),
    "opensanctions-csv": Seed("ftm", "32014R0269.csv", _OPENSANCTIONS_CSV.encode(), "2026-08-14"),
}
