% Text
% Cy, unmarried, runs a shop. In 2017 Dana was his children's nanny in his home all year, paid $5000 in
% cash on December 29th; Eli worked in the shop from December 4th to 8th, 2017, paid $1000 in cash.
% By hand: Cy paid $5,000 in cash for domestic service in 2017: an employer under §3306(a)(3).
% Leaving out domestic service, he paid $1,000 of wages, on days of one calendar week: no
% employer under (a)(1) ((A) $1,500, (B) 10 weeks), nor under (a)(2) (no agricultural labor).
% So the special rule of §3306(a)(4) reaches him: he is not treated as an employer for Eli's
% wages.

% Question
% Section 3306(a)(4) applies to Cy for 2017. Entailment

% Facts
:- [statutes/prolog/init].
business_(cys_shop).
agent_(cys_shop,cy).
residence_(cy_home).
agent_(cy_home,cy).
patient_(cy_home,cys_home).
start_(cy_home,"2010-01-01").
service_(dana_nanny).
agent_(dana_nanny,dana).
patient_(dana_nanny,cy).
purpose_(dana_nanny,"domestic service").
location_(dana_nanny,"private home").
start_(dana_nanny,"2017-01-02").
end_(dana_nanny,"2017-12-29").
payment_(cy_pays_dana).
agent_(cy_pays_dana,cy).
patient_(cy_pays_dana,dana).
purpose_(cy_pays_dana,dana_nanny).
amount_(cy_pays_dana,5000).
means_(cy_pays_dana,cash).
start_(cy_pays_dana,"2017-12-29").
service_(eli_shop).
agent_(eli_shop,eli).
patient_(eli_shop,cy).
location_(eli_shop,cys_shop).
start_(eli_shop,"2017-12-04").
end_(eli_shop,"2017-12-08").
payment_(cy_pays_eli).
agent_(cy_pays_eli,cy).
patient_(cy_pays_eli,eli).
purpose_(cy_pays_eli,eli_shop).
amount_(cy_pays_eli,1000).
means_(cy_pays_eli,cash).
start_(cy_pays_eli,"2017-12-08").
income_(cy_income).
agent_(cy_income,cy).
amount_(cy_income,60000).
start_(cy_income,"2017-12-31").

% Test
:- s3306_a_4(cy,2017).
:- halt.
