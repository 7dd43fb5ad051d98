% Text
% Hana is an American employer. In 2017 she paid Ivo, a citizen of the United States, $9000
% for work he did for her in Toronto, Canada from March 1st to October 31st, 2017; the United
% States has an agreement relating to unemployment compensation with Canada. She also paid
% Jude, a citizen of the United States, $4000 for work he did for her in Caracas, Venezuela
% from May 1st to July 31st, 2017. Hana had no income in 2017 and employed nobody in 2016.
% By hand: Ivo's service was performed outside the United States, in a contiguous country
% with which the United States has an agreement relating to unemployment compensation:
% §3306(c)(B) excepts it, and it is not within the United States ((c)(A)): no employment, so
% the $9,000 are no wages (§3306(b)). Jude's service outside the United States by a citizen
% as an employee of an American employer is employment ((c)(B)); his $4,000 are wages, at
% most $7,000 (§3306(b)(1)). Wages of $1,500 or more in 2017: Hana is an employer
% (§3306(a)(1)(A)). §3301: 6% of $4,000 = $240. Income tax: no income, $0. Total $240.

% Question
% How much tax does Hana have to pay in 2017? $240

% Facts
:- [statutes/prolog/init].
american_employer_(hana_american_employer).
agent_(hana_american_employer,hana).
service_(ivo_works).
agent_(ivo_works,ivo).
patient_(ivo_works,hana).
start_(ivo_works,"2017-03-01").
end_(ivo_works,"2017-10-31").
location_(ivo_works,"toronto, canada").
payment_(hana_pays_ivo).
agent_(hana_pays_ivo,hana).
patient_(hana_pays_ivo,ivo).
purpose_(hana_pays_ivo,ivo_works).
amount_(hana_pays_ivo,9000).
start_(hana_pays_ivo,"2017-10-31").
citizenship_(ivo_citizen).
agent_(ivo_citizen,ivo).
patient_(ivo_citizen,"usa").
unemployment_compensation_agreement_(us_canada_agreement).
agent_(us_canada_agreement,"usa").
patient_(us_canada_agreement,"canada").
service_(jude_works).
agent_(jude_works,jude).
patient_(jude_works,hana).
start_(jude_works,"2017-05-01").
end_(jude_works,"2017-07-31").
location_(jude_works,"caracas, venezuela").
payment_(hana_pays_jude).
agent_(hana_pays_jude,hana).
patient_(hana_pays_jude,jude).
purpose_(hana_pays_jude,jude_works).
amount_(hana_pays_jude,4000).
start_(hana_pays_jude,"2017-07-31").
citizenship_(jude_citizen).
agent_(jude_citizen,jude).
patient_(jude_citizen,"usa").

% Test
:- tax(hana,2017,240).
:- halt.
