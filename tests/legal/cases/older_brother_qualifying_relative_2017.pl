% Text
% Amir was born on 1990-01-20 and has never married. His brother Bilal, born on 1988-05-02, has
% lived with him in Amir's apartment on Pine Street since 2015-09-01 and had no income in 2017.
% Amir pays all the costs of the apartment ($9,000 in 2017) and earned $40,000 in 2017. He takes
% the standard deduction.
% By hand: Bilal is older than Amir, so he fails the age test of a qualifying child
% (§152(c)(3): "younger than the taxpayer"), but he is a brother with no income who is nobody's
% qualifying child: a qualifying relative (§152(d)(2)(B)), hence Amir's dependent. Amir is a
% head of household (§2(b)(1)(A)(ii)); Amir, 27, is nobody's qualifying child. Standard deduction $4,400, exemptions $4,000: taxable
% income $31,600; §1(b)(ii): $4,440 + 28% of $2,000 = $5,000.

% Question
% How much tax does Amir have to pay in 2017? $5000

% Facts
:- [statutes/prolog/init].
birth_(amir_born).
agent_(amir_born,amir).
start_(amir_born,"1990-01-20").
birth_(bilal_born).
agent_(bilal_born,bilal).
start_(bilal_born,"1988-05-02").
brother_(bilal_brother_of_amir).
agent_(bilal_brother_of_amir,bilal).
patient_(bilal_brother_of_amir,amir).
residence_(amir_pine).
agent_(amir_pine,amir).
patient_(amir_pine,pine_street_apartment).
start_(amir_pine,"2014-02-01").
residence_(bilal_pine).
agent_(bilal_pine,bilal).
patient_(bilal_pine,pine_street_apartment).
start_(bilal_pine,"2015-09-01").
payment_(amir_rent).
agent_(amir_rent,amir).
purpose_(amir_rent,pine_street_apartment).
amount_(amir_rent,9000).
start_(amir_rent,"2017-01-31").
payment_(amir_wages).
patient_(amir_wages,amir).
amount_(amir_wages,40000).
start_(amir_wages,"2017-12-31").

% Test
:- tax(amir,2017,5000).
:- halt.
